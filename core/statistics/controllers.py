"""Statistics pages and API (STA-1 first cut): the EDR table with its filters and one record's details."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody
from litestar.response import File, Redirect

from core.actor import Actor
from core.campaigns.schemas import CampaignFilter
from core.campaigns.services import list_campaigns
from core.contacts import table_settings
from core.errors import InvalidInput
from core.statistics import exports, services
from core.statistics.columns import COLUMN_LABELS, EDRS
from core.statistics.dashboard import Dashboard, Period, dashboard, subtree_clients
from core.statistics.schemas import DEFAULT_EDR_ROWS, EDR_STATUSES, EdrFilter, EdrView, ExportCreate, ExportView
from core.web.forms import convert, parse_day
from core.web.pagination import Page, PageNo
from core.web.params import PathBigId, PathId, QueryId
from core.web.periods import day_range, today
from core.web.shell import page
from core.web.spreadsheets import XLSX_TYPE
from core.web.templating import render

PER_PAGE_CHOICES = (50, 150, 500, 1000)
_TEXT_KEYS = ("recipient", "sender", "transaction_id", "country", "network")
_FORM_KEYS = (
    "source",
    "status",
    "channel",
    "campaign_id",
    "client_id",
    *_TEXT_KEYS,
    "date_from",
    "date_to",
    "per_page",
)
# The table's columns that are more than one column of a file.
_EXPORTED_AS = {"country": ("country", "network"), "status": ("status", "error")}
FILE_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}


def edr_filter(actor: Actor, params: Any) -> tuple[EdrFilter, dict[str, str]]:
    """The EDR filter from the page's query string; dates are days in the user's time zone, today by default."""
    values = {key: str(params.get(key) or "").strip() for key in _FORM_KEYS}
    if not any(values[k] for k in ("date_from", "date_to")) and "date_from" not in params:
        values["date_from"] = values["date_to"] = today(actor.timezone).isoformat()
    start, end = day_range(
        parse_day(values["date_from"], "date_from"), parse_day(values["date_to"], "date_to"), actor.timezone
    )
    data: dict[str, Any] = {
        "source": values["source"],
        "status": values["status"],
        "channel": values["channel"],
        **{key: values[key] for key in _TEXT_KEYS},
        "campaign_id": values["campaign_id"] or None,
        "client_id": values["client_id"] or None,
        "created_from": start,
        "created_to": end,
        "per_page": values["per_page"] or DEFAULT_EDR_ROWS,
        "page": str(params.get("page_no") or "1"),
    }
    return convert(data, EdrFilter), values


class StatisticsPages(Controller):
    path = "/statistics"
    include_in_schema = False

    @get("/edr")
    async def edr_table(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._table(request, actor)

    async def _table(self, request: Request, actor: Actor, error: str = "", field: str | None = None) -> Response:
        try:
            f, values = edr_filter(actor, request.query_params)
        except InvalidInput as exc:
            error, field = exc.detail, exc.field
            f, values = EdrFilter(), {k: str(request.query_params.get(k) or "") for k in _FORM_KEYS}
        result = await services.list_edrs(actor, f)
        settings = await table_settings.get_columns(actor, EDRS)
        clients = await subtree_clients(actor) if actor.is_partner_manager else []
        campaigns = await list_campaigns(actor, CampaignFilter(per_page=200))
        query = urlencode([(k, v) for k, v in values.items() if v])
        return await page(
            request,
            actor,
            "statistics/edr.html",
            {
                "result": result,
                "values": values,
                "query": query,
                "statuses": EDR_STATUSES,
                "channels": request.app.state.portal.registries.channels,
                "campaigns": campaigns.items,
                "clients": clients,
                "client_names": {c.id: c.name for c in clients},
                "per_page_choices": PER_PAGE_CHOICES,
                "columns": [c.key for c in settings if c.visible],
                "column_settings": settings,
                "column_labels": COLUMN_LABELS,
                "settings_open": request.query_params.get("settings") == "1" or field == "columns",
                "done": str(request.query_params.get("done") or ""),
                "error": error,
                "error_field": field,
            },
            status_code=422 if error else 200,
        )

    @post("/edr/columns")
    async def save_columns(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        """The table settings: the columns shown and their order; ↑/↓ move one column a place."""
        form = await request.form()
        try:
            await table_settings.save_columns(actor, EDRS, table_settings.columns_from_form(form))
        except InvalidInput as exc:
            return await self._table(request, actor, exc.detail, "columns")
        back = str(form.get("back") or "")
        query = back + ("&" if back else "") + ("settings=1" if form.get("up") or form.get("down") else "done=columns")
        return Redirect("/statistics/edr?" + query)

    @get("/edr/{edr_id:int}")
    async def edr_details(self, request: Request, actor: NamedDependency[Actor], edr_id: PathBigId) -> Response:
        edr = await services.get_edr(actor, edr_id)
        clients = {c.id: c.name for c in await subtree_clients(actor)} if actor.is_partner_manager else {}
        context = {"actor": actor, "edr": edr, "company": clients.get(edr.partner_id, "")}
        if request.headers.get("HX-Request"):
            return render(request, "statistics/_edr_panel.html", context)  # the window beside the table
        return await page(request, actor, "statistics/edr_details.html", context)


class EdrsApi(Controller):
    path = "/api/edrs"
    tags = ["Statistics"]

    @get("/", summary="Message records (EDRs) of your company, newest first; by default the latest 150")
    async def list_edrs(
        self,
        actor: NamedDependency[Actor],
        source: FromQuery[str] = "",
        status: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        campaign_id: QueryId = None,
        client_id: QueryId = None,
        recipient: FromQuery[str] = "",
        sender: FromQuery[str] = "",
        transaction_id: FromQuery[str] = "",
        country: FromQuery[str] = "",
        network: FromQuery[str] = "",
        created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None,
        page: PageNo = 1,
        per_page: FromQuery[int] = DEFAULT_EDR_ROWS,
    ) -> Page[EdrView]:
        f = convert(
            {
                "source": source,
                "status": status,
                "channel": channel,
                "campaign_id": campaign_id,
                "client_id": client_id,
                "recipient": recipient,
                "sender": sender,
                "transaction_id": transaction_id,
                "country": country,
                "network": network,
                "created_from": created_from,
                "created_to": created_to,
                "page": page,
                "per_page": per_page,
            },
            EdrFilter,
        )
        return await services.list_edrs(actor, f)

    @get("/{edr_id:int}", summary="One message record with every field")
    async def get_edr(self, actor: NamedDependency[Actor], edr_id: PathBigId) -> EdrView:
        return await services.get_edr(actor, edr_id)


class DashboardApi(Controller):
    path = "/api/dashboard"
    tags = ["Statistics"]

    @get(
        "/",
        summary="The dashboard's numbers: messages and cost by status and channel over a period, the last campaign",
        description="Periods are whole days in your time zone ending today. Resellers and the owner count their "
        "whole subtree, or one client with client_id; cost is null when the counted partners bill in several "
        "currencies.",
    )
    async def get_dashboard(
        self, actor: NamedDependency[Actor], period: FromQuery[Period] = "7d", client_id: QueryId = None
    ) -> Dashboard:
        return await dashboard(actor, period, client_id)


class EdrExportPages(Controller):
    """The export form (the count first, then columns, format and delivery) and the export tasks (STA-2, STA-3)."""

    path = "/statistics"
    include_in_schema = False

    async def _form(
        self, request: Request, actor: Actor, params: Any, error: str = "", field: str | None = None
    ) -> Response:
        f, values = edr_filter(actor, params)
        if hasattr(params, "getall") and "file_format" in params:
            chosen = params.getall("columns", [])
        else:
            # The guide's export carries the columns the table shows; the form starts from the user's table settings.
            shown = [c.key for c in await table_settings.get_columns(actor, EDRS) if c.visible]
            chosen = [c for key in shown for c in _EXPORTED_AS.get(key, (key,)) if c in exports.COLUMNS]
        return await page(
            request,
            actor,
            "statistics/export_form.html",
            {
                "count": await exports.count_matching(actor, f),
                "values": values,
                "query": urlencode([(k, v) for k, v in values.items() if v]),
                "columns": exports.COLUMNS,
                "chosen": chosen,
                "file_format": str(params.get("file_format") or "csv"),
                "delivery": str(params.get("delivery") or "download"),
                "error": error,
                "error_field": field,
            },
            status_code=422 if error else 200,
        )

    @get("/edr/export")
    async def export_form(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._form(request, actor, request.query_params)

    @post("/edr/export")
    async def create_export(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            f, _ = edr_filter(actor, form)
            data = convert(
                {
                    "columns": form.getall("columns", []),
                    "file_format": form.get("file_format") or "csv",
                    "delivery": form.get("delivery") or "download",
                },
                ExportCreate,
            )
            data.filters = f
            await exports.create_export(request.app.state.portal, actor, data)
        except InvalidInput as exc:
            return await self._form(request, actor, form, exc.detail, exc.field)
        return Redirect("/statistics/exports")

    @get("/exports")
    async def list_exports(self, request: Request, actor: NamedDependency[Actor], page_no: PageNo = 1) -> Response:
        result = await exports.list_exports(actor, page_no)
        return await page(
            request,
            actor,
            "statistics/exports.html",
            {
                "result": result,
                "labels": exports.STATUS_LABELS,
                "working": any(t.status == "waiting" for t in result.items),
            },
        )

    @post("/exports/{export_id:int}/cancel")
    async def cancel(self, actor: NamedDependency[Actor], export_id: PathId) -> Redirect:
        await exports.cancel_export(actor, export_id)
        return Redirect("/statistics/exports")

    @post("/exports/{export_id:int}/restart")
    async def restart(self, request: Request, actor: NamedDependency[Actor], export_id: PathId) -> Redirect:
        await exports.restart_export(request.app.state.portal, actor, export_id)
        return Redirect("/statistics/exports")

    @get("/exports/{export_id:int}/file")
    async def download(self, actor: NamedDependency[Actor], export_id: PathId) -> File:
        return await _file(actor, export_id)


async def _file(actor: Actor, export_id: int) -> File:
    path, name = await exports.export_file(actor, export_id)
    return File(
        path=path, filename=name, media_type=FILE_TYPES[path.suffix.lstrip(".")], content_disposition_type="attachment"
    )


class EdrExportsApi(Controller):
    path = "/api/edrs/exports"
    tags = ["Statistics"]

    @post("/", summary="Export the records a filter matches to CSV or XLSX, in the background (download or e-mail)")
    async def create(self, request: Request, actor: NamedDependency[Actor], data: JSONBody[ExportCreate]) -> ExportView:
        return await exports.create_export(request.app.state.portal, actor, data)

    @get("/", summary="Your company's export tasks, newest first")
    async def list_tasks(self, actor: NamedDependency[Actor], page: PageNo = 1) -> Page[ExportView]:
        return await exports.list_exports(actor, page)

    @get("/{export_id:int}", summary="One export task with its progress")
    async def get_task(self, actor: NamedDependency[Actor], export_id: PathId) -> ExportView:
        return await exports.get_export(actor, export_id)

    @post("/{export_id:int}/cancel", summary="Cancel a waiting export; it leaves no file")
    async def cancel(self, actor: NamedDependency[Actor], export_id: PathId) -> ExportView:
        return await exports.cancel_export(actor, export_id)

    @post("/{export_id:int}/restart", summary="Run a cancelled, failed or expired export again")
    async def restart(self, request: Request, actor: NamedDependency[Actor], export_id: PathId) -> ExportView:
        return await exports.restart_export(request.app.state.portal, actor, export_id)

    @get("/{export_id:int}/file", summary="The finished file (CSV or XLSX)")
    async def file(self, actor: NamedDependency[Actor], export_id: PathId) -> File:
        return await _file(actor, export_id)
