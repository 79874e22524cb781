"""Admin Panel pages and REST API of the numbering book (owner only; everyone else gets 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.errors import InvalidInput, PortalError
from core.numbering import services
from core.numbering.book import MAX_CSV_BYTES
from core.numbering.schemas import (
    BookSummary,
    CountryIn,
    CountryUpdate,
    CountryView,
    NetworkIn,
    NetworkUpdate,
    NetworkView,
    Resolution,
)
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip, page

CSV_TYPE = "text/csv; charset=utf-8"


async def read_csv_upload(upload: Any) -> bytes:
    """The bytes of an uploaded CSV file, or InvalidInput naming the ``file`` field."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("file: choose a CSV file", field="file")
    data = await upload.read(MAX_CSV_BYTES + 1)
    if not data:
        raise InvalidInput("file: the file is empty", field="file")
    return data


def _values(form: Any) -> dict[str, Any]:
    return {key: form.get(key) for key in form}


def _csv(text: str, filename: str) -> Response:
    return Response(
        content=text.encode(),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _prefix_lines(request: Request) -> dict[str, Any]:
    return {"prefixes": str((await request.form()).get("prefixes", "")).replace(",", " ").split()}


class NumberingPages(Controller):
    path = "/admin/numbering"
    guards = [manager_guard]
    include_in_schema = False

    async def _book(
        self,
        request: Request,
        actor: Actor,
        *,
        q: str = "",
        country: str = "",
        page_no: int = 1,
        error: str = "",
        field: str | None = None,
        error_form: str = "",
        values: Any = None,
        status_code: int = 200,
    ) -> Response:
        result = await services.list_networks(actor, query=q, country=country, page=page_no)
        return await page(
            request,
            actor,
            "numbering/book.html",
            {
                "result": result,
                "q": q,
                "country": country,
                "countries": await services.list_countries(actor),
                "summary": await services.summary(),
                "error": error,
                "error_field": field,
                "error_form": error_form,
                "values": values or {},
            },
            status_code=status_code,
        )

    @get("/")
    async def book(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        country: FromQuery[str] = "",
        page_no: PageNo = 1,
    ) -> Response:
        return await self._book(request, actor, q=q, country=country, page_no=page_no)

    @post("/upload", request_max_body_size=MAX_CSV_BYTES + 1024 * 1024)
    async def upload(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            data = await read_csv_upload((await request.form()).get("file"))
            loaded = await services.load_book(actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._book(
                request, actor, error=exc.detail, field=exc.field, error_form="upload", status_code=exc.status_code
            )
        return Redirect(f"/admin/numbering?loaded={loaded.countries},{loaded.networks},{loaded.prefixes}")

    @post("/seed")
    async def seed(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        loaded = await services.load_book(actor, services.SEED_CSV.read_bytes(), ip=client_ip(request))
        return Redirect(f"/admin/numbering?loaded={loaded.countries},{loaded.networks},{loaded.prefixes}")

    @get("/export")
    async def export(self, actor: NamedDependency[Actor]) -> Response:
        return _csv(await services.export_book(actor), "numbering-book.csv")

    # Countries ----------------------------------------------------------------------------------------------
    @post("/countries")
    async def create_country(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            created = await services.create_country(actor, await parse_form(request, CountryIn), ip=client_ip(request))
        except PortalError as exc:
            return await self._book(
                request,
                actor,
                error=exc.detail,
                field=exc.field,
                error_form="country",
                values=_values(await request.form()),
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/numbering?country={created.iso}&saved=country")

    async def _country_form(
        self,
        request: Request,
        actor: Actor,
        country_id: int,
        *,
        error: str = "",
        field: str | None = None,
        values: Any = None,
        status_code: int = 200,
    ) -> Response:
        country = await services.get_country(actor, country_id)
        return await page(
            request,
            actor,
            "numbering/country_form.html",
            {"country": country, "values": values, "error": error, "error_field": field},
            status_code=status_code,
        )

    @get("/countries/{country_id:int}")
    async def edit_country(self, request: Request, actor: NamedDependency[Actor], country_id: PathId) -> Response:
        return await self._country_form(request, actor, country_id)

    @post("/countries/{country_id:int}")
    async def update_country(self, request: Request, actor: NamedDependency[Actor], country_id: PathId) -> Response:
        await services.get_country(actor, country_id)
        try:
            await services.update_country(
                actor, country_id, await parse_form(request, CountryUpdate), ip=client_ip(request)
            )
        except PortalError as exc:
            return await self._country_form(
                request,
                actor,
                country_id,
                error=exc.detail,
                field=exc.field,
                values=_values(await request.form()),
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/numbering/countries/{country_id}?saved=1")

    @post("/countries/{country_id:int}/delete")
    async def delete_country(self, request: Request, actor: NamedDependency[Actor], country_id: PathId) -> Response:
        await services.delete_country(actor, country_id, ip=client_ip(request))
        return Redirect("/admin/numbering?saved=deleted")

    # Networks -----------------------------------------------------------------------------------------------
    async def _network_form(
        self,
        request: Request,
        actor: Actor,
        *,
        network: NetworkView | None = None,
        error: str = "",
        field: str | None = None,
        values: Any = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "numbering/network_form.html",
            {
                "network": network,
                "countries": await services.list_countries(actor),
                "values": values or {"country_iso": request.query_params.get("country", "")},
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/networks/new")
    async def new_network(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._network_form(request, actor)

    @post("/networks")
    async def create_network(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            data = await parse_form(request, NetworkIn, **await _prefix_lines(request))
            created = await services.create_network(actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._network_form(
                request,
                actor,
                error=exc.detail,
                field=exc.field,
                values=_values(await request.form()),
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/numbering/networks/{created.id}?saved=1")

    @get("/networks/{network_id:int}")
    async def edit_network(self, request: Request, actor: NamedDependency[Actor], network_id: PathId) -> Response:
        return await self._network_form(request, actor, network=await services.get_network(actor, network_id))

    @post("/networks/{network_id:int}")
    async def update_network(self, request: Request, actor: NamedDependency[Actor], network_id: PathId) -> Response:
        current = await services.get_network(actor, network_id)
        try:
            data = await parse_form(request, NetworkUpdate, **await _prefix_lines(request))
            await services.update_network(actor, network_id, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._network_form(
                request,
                actor,
                network=current,
                error=exc.detail,
                field=exc.field,
                values=_values(await request.form()),
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/numbering/networks/{network_id}?saved=1")

    @post("/networks/{network_id:int}/delete")
    async def delete_network(self, request: Request, actor: NamedDependency[Actor], network_id: PathId) -> Response:
        current = await services.get_network(actor, network_id)
        await services.delete_network(actor, network_id, ip=client_ip(request))
        return Redirect(f"/admin/numbering?country={current.country_iso}&saved=deleted")


@dataclass
class CsvFile:
    file: UploadFile


class NumberingApi(Controller):
    """The E.212/E.164 book: the system owner's users only."""

    path = "/api/admin/numbering"
    guards = [manager_guard]
    tags = ["Numbering"]

    @get("/", summary="How many countries, networks and prefixes the book holds")
    async def summary(self, actor: NamedDependency[Actor]) -> BookSummary:
        await services.list_countries(actor)
        return await services.summary()

    @post(
        "/upload",
        status_code=200,
        request_max_body_size=MAX_CSV_BYTES + 1024 * 1024,
        summary="Replace the whole book with a CSV (multipart field 'file'), all or nothing",
        description="Columns: country_iso,country,dial_code,mcc,mnc,network,prefixes (prefixes space-separated; "
        "an empty mnc is the country's All networks). A refused file names the row and the column.",
    )
    async def upload(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        data: Annotated[CsvFile, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> BookSummary:
        return await services.load_book(actor, await read_csv_upload(data.file), ip=client_ip(request))

    @get("/export", summary="The book as CSV, in the upload format", media_type=CSV_TYPE)
    async def export(self, actor: NamedDependency[Actor]) -> Response:
        return _csv(await services.export_book(actor), "numbering-book.csv")

    @get("/resolve", summary="Normalise a number and resolve it to country and network")
    async def resolve(self, actor: NamedDependency[Actor], number: FromQuery[str]) -> Resolution:
        return await services.resolve_number(actor, number)

    @get("/countries")
    async def list_countries(self, actor: NamedDependency[Actor]) -> list[CountryView]:
        return await services.list_countries(actor)

    @post("/countries", status_code=201, summary="Add a country (with its All networks row)")
    async def create_country(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[CountryIn]
    ) -> CountryView:
        return await services.create_country(actor, data, ip=client_ip(request))

    @get("/countries/{country_id:int}")
    async def get_country(self, actor: NamedDependency[Actor], country_id: PathId) -> CountryView:
        return await services.get_country(actor, country_id)

    @patch("/countries/{country_id:int}")
    async def update_country(
        self, request: Request, actor: NamedDependency[Actor], country_id: PathId, data: JSONBody[CountryUpdate]
    ) -> CountryView:
        return await services.update_country(actor, country_id, data, ip=client_ip(request))

    @delete("/countries/{country_id:int}", status_code=204, summary="Remove a country and its networks")
    async def delete_country(self, request: Request, actor: NamedDependency[Actor], country_id: PathId) -> None:
        await services.delete_country(actor, country_id, ip=client_ip(request))

    @get("/networks")
    async def list_networks(
        self,
        actor: NamedDependency[Actor],
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        q: Annotated[str, QueryParameter(description="Name, ISO code, MCC, MCCMNC or a number")] = "",
        country: Annotated[str, QueryParameter(description="ISO code")] = "",
    ) -> Page[NetworkView]:
        return await services.list_networks(actor, query=q, country=country, page=page, per_page=per_page)

    @post("/networks", status_code=201)
    async def create_network(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[NetworkIn]
    ) -> NetworkView:
        return await services.create_network(actor, data, ip=client_ip(request))

    @get("/networks/{network_id:int}")
    async def get_network(self, actor: NamedDependency[Actor], network_id: PathId) -> NetworkView:
        return await services.get_network(actor, network_id)

    @patch("/networks/{network_id:int}", summary="Change a network; 'prefixes' replaces its whole list")
    async def update_network(
        self, request: Request, actor: NamedDependency[Actor], network_id: PathId, data: JSONBody[NetworkUpdate]
    ) -> NetworkView:
        return await services.update_network(actor, network_id, data, ip=client_ip(request))

    @delete("/networks/{network_id:int}", status_code=204)
    async def delete_network(self, request: Request, actor: NamedDependency[Actor], network_id: PathId) -> None:
        await services.delete_network(actor, network_id, ip=client_ip(request))


ROUTES: list[Any] = [NumberingPages, NumberingApi]
