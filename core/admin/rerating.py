"""The owner's Rerating page and API (BIL-10): a finished campaign's differences at every level, then booked."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.campaigns import rerating
from core.campaigns.rerating import RerateView
from core.errors import PortalError
from core.web.params import PathId
from core.web.shell import client_ip, page


class ReratingPages(Controller):
    """Pick a finished campaign, see what rerating changes at each level, confirm to book it."""

    path = "/admin/rerating"
    guards = [manager_guard]
    include_in_schema = False

    @get("/")
    async def rerating_page(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        campaign: FromQuery[int | None] = None,
        done: FromQuery[int] = 0,
    ) -> Response:
        return await self._page(request, actor, campaign, done=bool(done))

    async def _page(
        self,
        request: Request,
        actor: Actor,
        campaign_id: int | None,
        *,
        done: bool = False,
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        recent = await rerating.recent_finished(actor)
        view = None
        if campaign_id is not None and not error:
            try:
                view = await rerating.rerate_campaign(actor, campaign_id)
            except PortalError as exc:
                error, status_code = exc.detail, exc.status_code
        context = {"recent": recent, "view": view, "campaign": campaign_id, "done": done, "error": error}
        return await page(request, actor, "billing/rerating.html", context, status_code=status_code)

    @post("/{campaign_id:int}")
    async def rerate(self, request: Request, actor: NamedDependency[Actor], campaign_id: PathId) -> Response:
        try:
            await rerating.rerate_campaign(actor, campaign_id, apply=True, ip=client_ip(request))
        except PortalError as exc:
            return await self._page(request, actor, campaign_id, error=exc.detail, status_code=exc.status_code)
        return Redirect(f"/admin/rerating/?campaign={campaign_id}&done=1")


class ReratingApi(Controller):
    """Rerating for the owner's API clients, through the same service as the page."""

    path = "/api/admin/campaigns"
    guards = [manager_guard]
    tags = ["Rerating"]

    @get("/{campaign_id:int}/rerating", summary="What rerating a finished campaign would change at each level")
    async def preview(self, actor: NamedDependency[Actor], campaign_id: PathId) -> RerateView:
        return await rerating.rerate_campaign(actor, campaign_id)

    @post("/{campaign_id:int}/rerating", status_code=200, summary="Rerate a finished campaign: book the differences")
    async def apply(self, request: Request, actor: NamedDependency[Actor], campaign_id: PathId) -> RerateView:
        return await rerating.rerate_campaign(actor, campaign_id, apply=True, ip=client_ip(request))
