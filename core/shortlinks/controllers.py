"""URL shortener page and API (URL-3): clicks by period, OS and browser, per domain and per campaign."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from core.actor import Actor
from core.errors import NotFound
from core.shortlinks import services
from core.shortlinks.schemas import ClickPeriod, ShortenedCampaign, ShortLinkStatistics
from core.web.params import PathId, QueryId
from core.web.shell import page

PERIODS = ("all", "day", "week", "month", "year")


class ShortenerPages(Controller):
    path = "/shortener"
    include_in_schema = False

    @get("/")
    async def overview(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        period: FromQuery[str] = "all",
        domain: FromQuery[str] = "",
        campaign_id: QueryId = None,
        client: QueryId = None,
    ) -> Response:
        if not actor.short_domains:
            raise NotFound("Page")  # the shortener is hidden without a short domain (URL-1)
        chosen: ClickPeriod = period if period in PERIODS else "all"  # type: ignore[assignment]
        portal = request.app.state.portal
        result = await services.statistics(
            portal, actor, period=chosen, domain=domain or None, campaign_id=campaign_id, client_id=client
        )
        return await page(
            request,
            actor,
            "shortener/overview.html",
            {
                "result": result,
                "campaigns": await services.shortened_campaigns(portal, actor, client),
                "periods": PERIODS,
            },
        )


class ShortenerApi(Controller):
    path = "/api/shortener"
    tags = ["URL shortener"]

    @get(
        "/statistics",
        summary="Clicks of your short links (a reseller's: its whole subtree, or one client with client_id) over a "
        "period, for all or one short domain",
    )
    async def statistics(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        period: FromQuery[ClickPeriod] = "all",
        domain: FromQuery[str] = "",
        client_id: QueryId = None,
    ) -> ShortLinkStatistics:
        return await services.statistics(
            request.app.state.portal, actor, period=period, domain=domain or None, client_id=client_id
        )

    @get("/campaigns", summary="Campaigns with short links in your scope, by short domain, newest first")
    async def campaigns(
        self, request: Request, actor: NamedDependency[Actor], client_id: QueryId = None
    ) -> list[ShortenedCampaign]:
        return await services.shortened_campaigns(request.app.state.portal, actor, client_id)

    @get("/campaigns/{campaign_id:int}/statistics", summary="Clicks of one campaign's short links over a period")
    async def campaign_statistics(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        campaign_id: PathId,
        period: FromQuery[ClickPeriod] = "all",
        client_id: QueryId = None,
    ) -> ShortLinkStatistics:
        return await services.statistics(
            request.app.state.portal, actor, period=period, campaign_id=campaign_id, client_id=client_id
        )
