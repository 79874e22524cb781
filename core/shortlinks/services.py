"""Short-link statistics (URL-3), scoped to the acting user's company: the shortener holds the clicks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.actor import Actor
from core.campaigns.tables import Campaign
from core.errors import InvalidInput, NotFound
from core.portal import Portal
from core.providers import ClickStats, Shortener, active_shortener
from core.shortlinks.schemas import ClickPeriod, ShortenedCampaign, ShortLinkStatistics
from core.tenancy.scope import owned

PERIOD_DAYS: dict[str, int | None] = {"all": None, "day": 1, "week": 7, "month": 30, "year": 365}


def _shortener(portal: Portal) -> Shortener | None:
    return active_shortener(portal.registries.shorteners)


async def _campaign_name(actor: Actor, campaign_id: int) -> str:
    row = await Campaign.select(Campaign.name).where((Campaign.id == campaign_id) & owned(Campaign, actor)).first()
    if row is None:
        raise NotFound("Campaign")
    return row["name"]


async def statistics(
    portal: Portal,
    actor: Actor,
    *,
    period: ClickPeriod = "all",
    domain: str | None = None,
    campaign_id: int | None = None,
) -> ShortLinkStatistics:
    """Clicks on the company's own links: a foreign campaign is a missing one (404)."""
    if period not in PERIOD_DAYS:
        raise InvalidInput("Choose all, day, week, month or year", field="period")
    name = await _campaign_name(actor, campaign_id) if campaign_id is not None else ""
    days = PERIOD_DAYS[period]
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    shortener = _shortener(portal)
    stats = (
        await shortener.statistics(
            actor.partner_id, domain=domain.lower() if domain else None, campaign_id=campaign_id, since=since
        )
        if shortener
        else ClickStats()
    )
    return ShortLinkStatistics(period=period, domain=domain, campaign_id=campaign_id, campaign_name=name, stats=stats)


async def shortened_campaigns(portal: Portal, actor: Actor) -> list[ShortenedCampaign]:
    """The company's links grouped by domain and campaign, newest first."""
    shortener = _shortener(portal)
    groups = await shortener.link_groups(actor.partner_id) if shortener else []
    ids = [g.campaign_id for g in groups if g.campaign_id is not None]
    names = {
        r["id"]: r["name"]
        for r in (
            await Campaign.select(Campaign.id, Campaign.name).where(Campaign.id.is_in(ids) & owned(Campaign, actor))
            if ids
            else []
        )
    }
    return [
        ShortenedCampaign(
            domain=g.domain,
            campaign_id=g.campaign_id,
            campaign_name=names.get(g.campaign_id, "") if g.campaign_id is not None else "",
            links=g.links,
            archived=g.archived,
        )
        for g in groups
    ]
