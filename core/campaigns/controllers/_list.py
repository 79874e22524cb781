"""Campaigns list (CMP-2) with live progress, one campaign's details, and the row actions (CMP-1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from core.actor import Actor
from core.campaigns import premoderation, report, services
from core.campaigns.columns import CAMPAIGNS, COLUMN_LABELS
from core.campaigns.schemas import CampaignFilter, CampaignView
from core.campaigns.states import STATUS_LABELS
from core.contacts import table_settings
from core.contacts.groups import group_names
from core.dispatch.statuses import EDR_STATUS_LABELS
from core.errors import InvalidInput, PortalError
from core.web.forms import convert, parse_day
from core.web.i18n import N_
from core.web.pagination import Page
from core.web.params import PathId
from core.web.periods import day_range
from core.web.shell import client_ip, page
from core.web.templating import render

PER_PAGE_CHOICES = (10, 25, 50, 100)
FILTER_KEYS = ("q", "status", "channel", "created_from", "created_to", "per_page")
ACTION_LABELS = {
    "pause": N_("Pause"),
    "resume": N_("Resume"),
    "cancel": N_("Cancel"),
    "start": N_("Start now"),
    "delete": N_("Delete"),
    "repeat": N_("Repeat"),
}
SAMPLE_NUMBERS = "phone,first_name\n+34612345678,Ana\n34612345679,Luis\n+447700900123,Emma\n"
SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "campaigns" / "wizard.js"


def campaign_filter(actor: Actor, params: Any) -> tuple[CampaignFilter, dict[str, str]]:
    """The list's filter from the query string; dates are whole days in the user's time zone."""
    values = {key: str(params.get(key) or "").strip() for key in FILTER_KEYS}
    start, end = day_range(
        parse_day(values["created_from"], "created_from"), parse_day(values["created_to"], "created_to"), actor.timezone
    )
    per_page = int(values["per_page"]) if values["per_page"].isdigit() else 25
    data = {
        "query": values["q"],
        "status": values["status"] if values["status"] in STATUS_LABELS else "",
        "channel": values["channel"],
        "created_from": start,
        "created_to": end,
        "page": str(params.get("page_no") or "1"),
        "per_page": per_page if per_page in PER_PAGE_CHOICES else 25,
    }
    return convert(data, CampaignFilter), values


async def _context(
    request: Request, actor: Actor, result: Page[CampaignView], values: dict[str, str]
) -> dict[str, Any]:
    settings = await table_settings.get_columns(actor, CAMPAIGNS)
    return {
        "actor": actor,
        "columns": [c.key for c in settings if c.visible],
        "column_settings": settings,
        "column_labels": COLUMN_LABELS,
        "result": result,
        "values": values,
        "query": urlencode([(k, v) for k, v in values.items() if v]),
        "live": any(c.status == "in_progress" for c in result.items),
        "action_labels": ACTION_LABELS,
        "premoderated": await premoderation.premoderated(actor),
    }


class CampaignPages(Controller):
    path = "/campaigns"
    include_in_schema = False

    async def _list(
        self, request: Request, actor: Actor, *, error: str = "", field: str | None = None, status_code: int = 200
    ) -> Response:
        try:
            f, values = campaign_filter(actor, request.query_params)
        except InvalidInput as exc:
            f, values = CampaignFilter(), {k: str(request.query_params.get(k) or "") for k in FILTER_KEYS}
            error, field, status_code = exc.detail, exc.field, exc.status_code
        result = await services.list_campaigns(actor, f)
        return await page(
            request,
            actor,
            "campaigns/list.html",
            {
                **(await _context(request, actor, result, values)),
                "statuses": STATUS_LABELS,
                "channels": request.app.state.portal.registries.channels,
                "per_page_choices": PER_PAGE_CHOICES,
                "done": str(request.query_params.get("done") or ""),
                "settings_open": request.query_params.get("settings") == "1",
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/")
    async def list_campaigns(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._list(request, actor)

    @get("/table")
    async def table(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        """The table alone: what the list polls every few seconds while a campaign is in progress."""
        f, values = campaign_filter(actor, request.query_params)
        result = await services.list_campaigns(actor, f)
        return render(request, "campaigns/_table.html", await _context(request, actor, result, values))

    @get("/wizard.js", media_type="text/javascript")
    async def script(self) -> Response:
        """The wizard's counter and preview (a plain file next to the templates)."""
        return Response(
            SCRIPT.read_text(encoding="utf-8"),
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": "no-cache"},
        )

    @get("/sample-numbers.csv", media_type="text/csv")
    async def sample_numbers(self) -> Response:
        """A file the "Upload a file" mode reads: a column of numbers, with the country code or with a + (CMP-4)."""
        return Response(
            SAMPLE_NUMBERS,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="campaign-numbers-sample.csv"'},
        )

    @get("/{campaign_id:int}")
    async def details(self, request: Request, actor: NamedDependency[Actor], campaign_id: PathId) -> Response:
        return await self._details(request, actor, campaign_id)

    async def _details(
        self, request: Request, actor: Actor, campaign_id: int, *, error: str = "", status_code: int = 200
    ) -> Response:
        campaign = await services.get_campaign(actor, campaign_id)
        names = {g.id: g.name for g in await group_names(actor)}
        return await page(
            request,
            actor,
            "campaigns/details.html",
            {
                "c": campaign,
                "groups": [names.get(g, f"#{g}") for g in campaign.group_ids],
                "costs": await services.cost_details(actor, campaign_id),
                "timeline": await report.timeline(actor, campaign_id),
                "edr_labels": EDR_STATUS_LABELS,
                "status_labels": STATUS_LABELS,
                "action_labels": ACTION_LABELS,
                "premoderated": await premoderation.premoderated(actor),
                "done": str(request.query_params.get("done") or ""),
                "error": error,
            },
            status_code=status_code,
        )

    @post("/columns")
    async def save_columns(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        """The list's table settings: the columns shown and their order; ↑/↓ move one column a place."""
        form = await request.form()
        try:
            await table_settings.save_columns(actor, CAMPAIGNS, table_settings.columns_from_form(form))
        except PortalError as exc:
            return await self._list(request, actor, error=exc.detail, field="columns", status_code=exc.status_code)
        return Redirect("/campaigns?done=columns" + ("&settings=1" if form.get("up") or form.get("down") else ""))

    @post("/{campaign_id:int}/action")
    async def act(self, request: Request, actor: NamedDependency[Actor], campaign_id: PathId) -> Response:
        form = await request.form()
        action = str(form.get("action") or "")
        back = str(form.get("back") or "")
        portal = request.app.state.portal
        try:
            await services.act(portal, actor, campaign_id, action, ip=client_ip(request))
        except PortalError as exc:
            if exc.status_code == 404:
                raise
            if back == "details":
                return await self._details(request, actor, campaign_id, error=exc.detail, status_code=exc.status_code)
            return await self._list(request, actor, error=exc.detail, field=exc.field, status_code=exc.status_code)
        if action != "delete" and back == "details":
            return Redirect(f"/campaigns/{campaign_id}?done={action}")
        return Redirect(f"/campaigns?done={action}")
