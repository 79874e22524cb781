"""A reseller's Margins page and API: what each client brought in against what its messages cost the reseller."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.errors import InvalidInput
from core.statistics.margins import MarginReport, margins
from core.web.forms import parse_day
from core.web.periods import today
from core.web.shell import page


def default_period(actor: Actor) -> tuple[date, date]:
    """This month so far, in the user's time zone."""
    now = today(actor.timezone)
    return now.replace(day=1), now


class MarginPages(Controller):
    path = "/admin/margins"
    guards = [manager_guard]
    include_in_schema = False

    @get("/")
    async def margins_page(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        date_from: FromQuery[str] = "",
        date_to: FromQuery[str] = "",
    ) -> Response:
        first, last = default_period(actor)
        values = {"date_from": date_from or first.isoformat(), "date_to": date_to or last.isoformat()}
        report, error, field = None, "", ""
        try:
            report = await margins(
                actor,
                parse_day(values["date_from"], "date_from") or first,
                parse_day(values["date_to"], "date_to") or last,
            )
        except InvalidInput as exc:
            error, field = exc.detail, exc.field or ""
        context = {"report": report, "values": values, "error": error, "error_field": field}
        return await page(request, actor, "statistics/margins.html", context, status_code=422 if error else 200)


class MarginsApi(Controller):
    path = "/api/admin/margins"
    guards = [manager_guard]
    tags = ["Margins"]

    @get("/", summary="A reseller's margin per client over whole days in the user's time zone (this month by default)")
    async def margins_report(
        self,
        actor: NamedDependency[Actor],
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
    ) -> MarginReport:
        first, last = default_period(actor)
        return await margins(actor, date_from or first, date_to or last)
