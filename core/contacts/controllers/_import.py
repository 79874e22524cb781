"""Import Contacts and Import History (guide 7.3, 7.5): upload, mapping, live progress, downloads; and the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body, FromQuery, JSONBody
from litestar.response import File, Redirect

from core.actor import Actor
from core.contacts import imports
from core.contacts.fields import list_fields
from core.contacts.groups import list_groups
from core.contacts.importing import FIELD_LABELS, MAX_FILE_BYTES, UPLOAD_BODY_LIMIT, read_upload, too_large
from core.contacts.schemas import ImportStart, ImportUploaded, ImportView
from core.errors import PortalError
from core.portal import Portal
from core.senders.services import enabled_senders
from core.web.errors import portal_error
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip, page
from core.web.templating import render

# Room for the multipart envelope around a file at the limit, so that our own message, not the server's, says no.
CSV_TYPE = "text/csv; charset=utf-8"


def _too_large(request: Request, _: RequestEntityTooLarge) -> Response:
    return portal_error(request, too_large())


def _portal(request: Request) -> Portal:
    return request.app.state.portal


class ImportPages(Controller):
    path = "/contacts"
    include_in_schema = False
    exception_handlers = {RequestEntityTooLarge: _too_large}

    async def _upload_page(
        self, request: Request, actor: Actor, *, target: str = "", error: str = "", status_code: int = 200
    ) -> Response:
        return await page(
            request,
            actor,
            "contacts/import_upload.html",
            {"target": target, "error": error, "max_mb": MAX_FILE_BYTES // (1024 * 1024)},
            status_code=status_code,
        )

    @get("/import")
    async def upload_form(
        self, request: Request, actor: NamedDependency[Actor], target: FromQuery[str] = ""
    ) -> Response:
        """Step 1; ``?target=stoplist`` (the Stop List tab's button) preselects "Import to stop list"."""
        return await self._upload_page(request, actor, target=target)

    @post("/imports", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def upload(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        target = str(form.get("target", ""))
        try:
            filename, data = await read_upload(form.get("file"))
            portal = _portal(request)
            uploaded = await imports.create_import(
                actor, filename, data, var_dir=portal.settings.var_dir, redis=portal.redis
            )
        except PortalError as exc:
            return await self._upload_page(request, actor, target=target, error=exc.detail, status_code=exc.status_code)
        suffix = "?target=stoplist" if target == "stoplist" else ""
        return Redirect(f"/contacts/imports/{uploaded.import_.id}/mapping{suffix}")

    @get("/imports")
    async def history(self, request: Request, actor: NamedDependency[Actor], page_no: PageNo = 1) -> Response:
        result = await imports.list_imports(actor, page=page_no, redis=_portal(request).redis)
        return await page(request, actor, "contacts/imports.html", {"result": result})

    async def _mapping_page(
        self,
        request: Request,
        actor: Actor,
        import_id: int,
        *,
        values: dict[str, Any] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        view = await imports.get_import(actor, import_id)
        if view.status != "uploaded":
            return Redirect(f"/contacts/imports/{import_id}")
        portal = _portal(request)
        shown = await imports.preview(actor, import_id, portal.settings.var_dir, portal.redis)
        fields = await list_fields(actor)
        targets = [*FIELD_LABELS.items(), *((f"custom.{f.variable}", f.name) for f in fields)]
        if values is None:
            stop_list = request.query_params.get("target") == "stoplist"
            values = {
                "has_header": shown.has_header,
                "mapping": shown.suggested,
                "contact_mode": "add_update",
                "stop_mode": "block" if stop_list else "exclude",
                "sender_ids": [],
                "group_id": "",
                "new_group": "",
            }
        return await page(
            request,
            actor,
            "contacts/import_mapping.html",
            {
                "imp": view,
                "preview": shown,
                "targets": targets,
                "senders": await enabled_senders(actor),
                "groups": (await list_groups(actor, per_page=1000)).items,
                "values": values,
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/imports/{import_id:int}/mapping")
    async def mapping(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> Response:
        return await self._mapping_page(request, actor, import_id)

    @post("/imports/{import_id:int}/start")
    async def start(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> Response:
        await imports.get_import(actor, import_id)  # another partner's id is a 404 before the form is read
        form = await request.form()
        mapping = {
            int(key.removeprefix("column.")): str(value)
            for key, value in form.items()
            if key.startswith("column.") and key.removeprefix("column.").isdigit()
        }
        try:
            data = await parse_form(request, ImportStart, mapping=mapping)
            await imports.start_import(actor, _portal(request), import_id, data, ip=client_ip(request))
        except PortalError as exc:
            values = {
                "has_header": "has_header" in form,
                "mapping": mapping,
                "contact_mode": form.get("contact_mode", "add_update"),
                "stop_mode": form.get("stop_mode", "exclude"),
                "sender_ids": [int(s) for s in form.getall("sender_ids", []) if str(s).isdigit()],
                "group_id": form.get("group_id", ""),
                "new_group": form.get("new_group", ""),
            }
            return await self._mapping_page(
                request,
                actor,
                import_id,
                values=values,
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/contacts/imports/{import_id}")

    @get("/imports/{import_id:int}")
    async def progress_page(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> Response:
        view = await imports.get_import(actor, import_id, _portal(request).redis)
        return await page(request, actor, "contacts/import_progress.html", {"imp": view})

    @get("/imports/{import_id:int}/progress")
    async def progress(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> Response:
        """The fragment htmx polls every second while the import runs."""
        view = await imports.get_import(actor, import_id, _portal(request).redis)
        return render(request, "contacts/_import_status.html", {"actor": actor, "imp": view})

    @get("/imports/{import_id:int}/file")
    async def original(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> File:
        path, name, media_type = await imports.original_file(actor, import_id, _portal(request).settings.var_dir)
        return File(path=path, filename=name, media_type=media_type, content_disposition_type="attachment")

    @get("/imports/{import_id:int}/invalid")
    async def invalid(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> File:
        path, name = await imports.invalid_file(actor, import_id, _portal(request).settings.var_dir)
        return File(path=path, filename=name, media_type=CSV_TYPE, content_disposition_type="attachment")


@dataclass
class ImportFile:
    file: UploadFile


class ImportsApi(Controller):
    """Contact imports through the REST API: upload and preview, start, follow, fetch the refused rows."""

    path = "/api/imports"
    tags = ["Contact imports"]
    exception_handlers = {RequestEntityTooLarge: _too_large}

    @get("/", summary="Import history, newest first")
    async def list_imports(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[ImportView]:
        return await imports.list_imports(actor, page=page, per_page=per_page, redis=_portal(request).redis)

    @post(
        "/",
        status_code=201,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        summary="Upload a CSV, XLS or XLSX file (≤ 10 MB) as the multipart field 'file'; answers with a preview",
    )
    async def upload(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        data: Annotated[ImportFile, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ImportUploaded:
        filename, content = await read_upload(data.file)
        portal = _portal(request)
        return await imports.create_import(
            actor, filename, content, var_dir=portal.settings.var_dir, redis=portal.redis
        )

    @get("/{import_id:int}", summary="Status, live progress and counts of an import")
    async def get_import(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> ImportView:
        return await imports.get_import(actor, import_id, _portal(request).redis)

    @post("/{import_id:int}/start", status_code=202, summary="Map the columns, choose modes and group, and start")
    async def start(
        self, request: Request, actor: NamedDependency[Actor], import_id: PathId, data: JSONBody[ImportStart]
    ) -> ImportView:
        return await imports.start_import(actor, _portal(request), import_id, data, ip=client_ip(request))

    @get("/{import_id:int}/invalid", summary="The refused rows as CSV: row number, column, reason and the row")
    async def invalid(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> File:
        path, name = await imports.invalid_file(actor, import_id, _portal(request).settings.var_dir)
        return File(path=path, filename=name, media_type=CSV_TYPE, content_disposition_type="attachment")

    @get("/{import_id:int}/file", summary="The uploaded file as it came")
    async def original(self, request: Request, actor: NamedDependency[Actor], import_id: PathId) -> File:
        path, name, media_type = await imports.original_file(actor, import_id, _portal(request).settings.var_dir)
        return File(path=path, filename=name, media_type=media_type, content_disposition_type="attachment")
