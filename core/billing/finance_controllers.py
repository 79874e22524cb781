"""Finance history pages and API (BIL-7): the company's balance changes, one change's breakdown, CSV/XLSX export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Stream

from core.actor import Actor
from core.billing import finance
from core.billing.finance import FinanceEntry, FinanceFilter, Kind
from core.billing.schemas import LEDGER_KIND_LABELS, LedgerView
from core.errors import InvalidInput
from core.numbering.controllers import CSV_TYPE
from core.web.forms import convert, parse_day
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.periods import day_range
from core.web.shell import page
from core.web.spreadsheets import xlsx_download

PER_PAGE_CHOICES = (50, 100, 200, 500)
_FORM_KEYS = ("kind", "date_from", "date_to", "per_page")
Format = Literal["csv", "xlsx"]


def finance_filter(actor: Actor, params: Any) -> tuple[FinanceFilter, dict[str, str]]:
    """The filter from the page's query string; dates are whole days in the user's time zone."""
    values = {key: str(params.get(key) or "").strip() for key in _FORM_KEYS}
    start, end = day_range(
        parse_day(values["date_from"], "date_from"), parse_day(values["date_to"], "date_to"), actor.timezone
    )
    data = {
        "kind": values["kind"],
        "created_from": start,
        "created_to": end,
        "per_page": values["per_page"] or DEFAULT_PER_PAGE,
        "page": str(params.get("page_no") or "1"),
    }
    return convert(data, FinanceFilter), values


async def _export(actor: Actor, f: FinanceFilter, fmt: str) -> Response[Any]:
    if fmt == "xlsx":
        return xlsx_download(await finance.export_xlsx(actor, f), "finance")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Stream(
        await finance.export_csv(actor, f),
        media_type=f"{CSV_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="finance-{stamp}.csv"'},
    )


class FinancePages(Controller):
    path = "/finance"
    include_in_schema = False

    @get("/")
    async def history(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        error, field = "", None
        try:
            f, values = finance_filter(actor, request.query_params)
        except InvalidInput as exc:
            error, field = exc.detail, exc.field
            f, values = FinanceFilter(), {k: str(request.query_params.get(k) or "") for k in _FORM_KEYS}
        result = await finance.list_finance(actor, f)
        return await page(
            request,
            actor,
            "billing/finance.html",
            {
                "result": result,
                "values": values,
                "query": urlencode([(k, v) for k, v in values.items() if v]),
                "kinds": LEDGER_KIND_LABELS,
                "per_page_choices": PER_PAGE_CHOICES,
                "error": error,
                "error_field": field,
            },
            status_code=422 if error else 200,
        )

    @get("/export")
    async def export(self, request: Request, actor: NamedDependency[Actor]) -> Response[Any]:
        f, _ = finance_filter(actor, request.query_params)
        fmt = str(request.query_params.get("format") or "csv")
        if fmt not in ("csv", "xlsx"):
            raise InvalidInput("format: csv or xlsx", field="format")
        return await _export(actor, f, fmt)

    @get("/{entry_id:int}")
    async def details(self, request: Request, actor: NamedDependency[Actor], entry_id: PathId) -> Response:
        return await page(
            request, actor, "billing/finance_entry.html", {"entry": await finance.get_entry(actor, entry_id)}
        )


class FinanceApi(Controller):
    path = "/api/finance"
    tags = ["Finance"]

    @get("/", summary="Balance changes of your company, newest first (Campaign, API, Payment, Balance top up, …)")
    async def list_finance(
        self,
        actor: NamedDependency[Actor],
        kind: FromQuery[Kind] = "",
        created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None,
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[LedgerView]:
        f = FinanceFilter(kind=kind, created_from=created_from, created_to=created_to, page=page, per_page=per_page)
        return await finance.list_finance(actor, f)

    @get("/export", summary="Every matching balance change as CSV (streamed) or XLSX, with each breakdown line")
    async def export(
        self,
        actor: NamedDependency[Actor],
        format: FromQuery[Format] = "csv",
        kind: FromQuery[Kind] = "",
        created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None,
    ) -> Response[Any]:
        f = FinanceFilter(kind=kind, created_from=created_from, created_to=created_to)
        return await _export(actor, f, format)

    @get("/{entry_id:int}", summary="One balance change with its breakdown by country, network and MCCMNC")
    async def get_entry(self, actor: NamedDependency[Actor], entry_id: PathId) -> FinanceEntry:
        return await finance.get_entry(actor, entry_id)
