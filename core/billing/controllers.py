"""Admin Panel pages and REST API of rate plans, rates and their assignment to partners (BIL-2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.billing import rates
from core.billing.rate_schemas import (
    MODE_LABELS,
    AssignmentIn,
    AssignmentView,
    RateIn,
    RatePlanCreate,
    RatePlanUpdate,
    RatePlanView,
    RatesUploaded,
    RateUpdate,
    RateView,
)
from core.errors import InvalidInput, PortalError
from core.numbering.book import MAX_CSV_BYTES
from core.numbering.controllers import CSV_TYPE, CsvFile, read_csv_upload
from core.plugins import registries
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage, page_from
from core.web.params import PathId
from core.web.shell import client_ip, page

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _values(form: Any) -> dict[str, Any]:
    return {key: form.get(key) for key in form}


async def _dates(request: Request) -> dict[str, Any]:
    """The form's date inputs (YYYY-MM-DD, UTC midnight) as datetimes; empty = open-ended."""
    form = await request.form()
    out: dict[str, Any] = {}
    for name in ("valid_from", "valid_to"):
        text = str(form.get(name, "")).strip()
        if not text:
            out[name] = None
        elif _DATE.match(text):
            out[name] = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            raise InvalidInput(f"{name}: a date like 2027-01-31", field=name)
    return out


def _csv(text: str, filename: str) -> Response:
    return Response(
        content=text.encode(),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class RatePlanPages(Controller):
    path = "/admin"
    guards = [manager_guard]
    include_in_schema = False

    @get("/rate-plans")
    async def plans(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        page_no: PageNo = 1,
    ) -> Response:
        result = await rates.list_plans(actor, query=q, channel=channel, page=page_no)
        return await page(
            request,
            actor,
            "billing/plans.html",
            {
                "result": result,
                "q": q,
                "channel": channel,
                "channels": list(registries().channels),
                "modes": MODE_LABELS,
            },
        )

    async def _new_form(
        self,
        request: Request,
        actor: Actor,
        *,
        values: Any = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "billing/plan_new.html",
            {
                "values": values or {},
                "error": error,
                "error_field": field,
                "channels": list(registries().channels),
                "modes": MODE_LABELS,
            },
            status_code=status_code,
        )

    @get("/rate-plans/new")
    async def new_plan(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._new_form(request, actor)

    @post("/rate-plans")
    async def create_plan(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            data = await parse_form(request, RatePlanCreate, currency=str(form.get("currency", "")).upper() or None)
            created = await rates.create_plan(actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._new_form(
                request, actor, values=_values(form), error=exc.detail, field=exc.field, status_code=exc.status_code
            )
        return Redirect(f"/admin/rate-plans/{created.id}?saved=plan")

    async def _plan_page(
        self,
        request: Request,
        actor: Actor,
        plan_id: int,
        *,
        error: str = "",
        field: str | None = None,
        error_form: str = "",
        values: Any = None,
        status_code: int = 200,
    ) -> Response:
        plan = await rates.get_plan(actor, plan_id)
        q = request.query_params.get("q", "")
        result = await rates.list_rates(actor, plan_id, query=q, page=page_from(request.query_params))
        return await page(
            request,
            actor,
            "billing/plan.html",
            {
                "plan": plan,
                "result": result,
                "q": q,
                "modes": MODE_LABELS,
                "assignments": await rates.list_assignments(actor, plan_id),
                "partners": await rates.assignable_partners(actor, plan_id),
                "error": error,
                "error_field": field,
                "error_form": error_form,
                "values": values or {},
            },
            status_code=status_code,
        )

    async def _plan_action(self, request: Request, actor: Actor, plan_id: int, form_name: str, action: Any) -> Response:
        await rates.get_plan(actor, plan_id)  # a foreign plan is a 404 before anything else
        try:
            await action()
        except PortalError as exc:
            return await self._plan_page(
                request,
                actor,
                plan_id,
                error=exc.detail,
                field=exc.field,
                error_form=form_name,
                values=_values(await request.form()),
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/rate-plans/{plan_id}?saved={form_name}")

    @get("/rate-plans/{plan_id:int}")
    async def plan(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        return await self._plan_page(request, actor, plan_id)

    @post("/rate-plans/{plan_id:int}")
    async def update_plan(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        async def run() -> None:
            await rates.update_plan(actor, plan_id, await parse_form(request, RatePlanUpdate), ip=client_ip(request))

        return await self._plan_action(request, actor, plan_id, "plan", run)

    @post("/rate-plans/{plan_id:int}/rates")
    async def add_rate(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        async def run() -> None:
            form = await request.form()
            data = await parse_form(
                request, RateIn, country_iso=str(form.get("country_iso", "")).upper(), **await _dates(request)
            )
            await rates.add_rate(actor, plan_id, data, ip=client_ip(request))

        return await self._plan_action(request, actor, plan_id, "rate", run)

    @post("/rate-plans/{plan_id:int}/rates/upload", request_max_body_size=MAX_CSV_BYTES + 1024 * 1024)
    async def upload_rates(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        async def run() -> None:
            data = await read_csv_upload((await request.form()).get("file"))
            await rates.upload_rates(actor, plan_id, data, ip=client_ip(request))

        return await self._plan_action(request, actor, plan_id, "upload", run)

    @get("/rate-plans/{plan_id:int}/rates.csv")
    async def export_rates(self, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        listed = await rates.list_rates(actor, plan_id, per_page=1_000_000)
        return _csv(rates.rates_csv(listed.items), f"rate-plan-{plan_id}.csv")

    @post("/rate-plans/{plan_id:int}/assign")
    async def assign(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        async def run() -> None:
            data = await parse_form(request, AssignmentIn)
            await rates.assign_plan(actor, plan_id, data.partner_id, ip=client_ip(request))

        return await self._plan_action(request, actor, plan_id, "assign", run)

    @post("/rate-plans/{plan_id:int}/unassign")
    async def unassign(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        async def run() -> None:
            data = await parse_form(request, AssignmentIn)
            await rates.unassign_plan(actor, plan_id, data.partner_id, ip=client_ip(request))

        return await self._plan_action(request, actor, plan_id, "assign", run)

    @post("/rates/{rate_id:int}")
    async def update_rate(self, request: Request, actor: NamedDependency[Actor], rate_id: PathId) -> Response:
        plan_id = (await rates.get_rate(actor, rate_id)).plan_id

        async def run() -> None:
            data = await parse_form(request, RateUpdate, **await _dates(request))
            await rates.update_rate(actor, rate_id, data, ip=client_ip(request))

        return await self._plan_action(request, actor, plan_id, "rate", run)

    @post("/rates/{rate_id:int}/delete")
    async def delete_rate(self, request: Request, actor: NamedDependency[Actor], rate_id: PathId) -> Response:
        plan_id = await rates.delete_rate(actor, rate_id, ip=client_ip(request))
        return Redirect(f"/admin/rate-plans/{plan_id}?saved=rate")


class RatePlansApi(Controller):
    """Rate plans of the caller's partner and its descendants; changes need an admin."""

    path = "/api/admin"
    guards = [manager_guard]
    tags = ["Rate plans"]

    @get("/rate-plans")
    async def list_plans(
        self,
        actor: NamedDependency[Actor],
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
    ) -> Page[RatePlanView]:
        return await rates.list_plans(actor, query=q, channel=channel, page=page, per_page=per_page)

    @post("/rate-plans", status_code=201, summary="Create a plan offered by the caller's partner")
    async def create_plan(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[RatePlanCreate]
    ) -> RatePlanView:
        return await rates.create_plan(actor, data, ip=client_ip(request))

    @get("/rate-plans/{plan_id:int}")
    async def get_plan(self, actor: NamedDependency[Actor], plan_id: PathId) -> RatePlanView:
        return await rates.get_plan(actor, plan_id)

    @patch("/rate-plans/{plan_id:int}")
    async def update_plan(
        self, request: Request, actor: NamedDependency[Actor], plan_id: PathId, data: JSONBody[RatePlanUpdate]
    ) -> RatePlanView:
        return await rates.update_plan(actor, plan_id, data, ip=client_ip(request))

    @get("/rate-plans/{plan_id:int}/rates")
    async def list_rates(
        self,
        actor: NamedDependency[Actor],
        plan_id: PathId,
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        q: Annotated[str, QueryParameter(description="ISO code, MCC or MCCMNC")] = "",
    ) -> Page[RateView]:
        return await rates.list_rates(actor, plan_id, query=q, page=page, per_page=per_page)

    @post("/rate-plans/{plan_id:int}/rates", status_code=201, summary="Add one rate")
    async def add_rate(
        self, request: Request, actor: NamedDependency[Actor], plan_id: PathId, data: JSONBody[RateIn]
    ) -> RateView:
        return await rates.add_rate(actor, plan_id, data, ip=client_ip(request))

    @post(
        "/rate-plans/{plan_id:int}/rates/upload",
        status_code=200,
        request_max_body_size=MAX_CSV_BYTES + 1024 * 1024,
        summary="Replace the plan's rates with a CSV (multipart field 'file'), all or nothing",
        description="Columns: country_iso,mcc,mnc,price[,valid_from,valid_to]; an empty mnc is the country's All "
        "networks; dates are YYYY-MM-DD or ISO date-times (UTC when no zone). A refused file names row and column.",
    )
    async def upload_rates(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        plan_id: PathId,
        data: Annotated[CsvFile, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> RatesUploaded:
        return await rates.upload_rates(actor, plan_id, await read_csv_upload(data.file), ip=client_ip(request))

    @patch("/rates/{rate_id:int}")
    async def update_rate(
        self, request: Request, actor: NamedDependency[Actor], rate_id: PathId, data: JSONBody[RateUpdate]
    ) -> RateView:
        return await rates.update_rate(actor, rate_id, data, ip=client_ip(request))

    @delete("/rates/{rate_id:int}", status_code=204)
    async def delete_rate(self, request: Request, actor: NamedDependency[Actor], rate_id: PathId) -> None:
        await rates.delete_rate(actor, rate_id, ip=client_ip(request))

    @get("/rate-plans/{plan_id:int}/assignments")
    async def assignments(self, actor: NamedDependency[Actor], plan_id: PathId) -> list[AssignmentView]:
        return await rates.list_assignments(actor, plan_id)

    @post(
        "/rate-plans/{plan_id:int}/assignments",
        status_code=201,
        summary="Make this the partner's plan for the plan's channel (replacing its previous one)",
    )
    async def assign(
        self, request: Request, actor: NamedDependency[Actor], plan_id: PathId, data: JSONBody[AssignmentIn]
    ) -> AssignmentView:
        return await rates.assign_plan(actor, plan_id, data.partner_id, ip=client_ip(request))

    @delete("/rate-plans/{plan_id:int}/assignments/{partner_id:int}", status_code=204)
    async def unassign(
        self, request: Request, actor: NamedDependency[Actor], plan_id: PathId, partner_id: PathId
    ) -> None:
        await rates.unassign_plan(actor, plan_id, partner_id, ip=client_ip(request))

    @get("/partners/{partner_id:int}/rate-plans", summary="The plans a partner uses, one per channel")
    async def partner_plans(self, actor: NamedDependency[Actor], partner_id: PathId) -> list[AssignmentView]:
        return await rates.partner_plans(actor, partner_id)


ROUTES: list[Any] = [RatePlanPages, RatePlansApi]
