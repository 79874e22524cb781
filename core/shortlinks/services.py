"""Short-link statistics (URL-3) over the dashboard's scope: an end user's company, or a manager's subtree (or one
client of it), with periods and days in the user's time zone. The shortener holds the clicks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.actor import Actor
from core.campaigns.tables import Campaign
from core.errors import InvalidInput, NotFound
from core.portal import Portal
from core.providers import ClickStats, PartnerScope, Shortener, active_shortener
from core.shortlinks.schemas import ClickPeriod, ShortenedCampaign, ShortLinkStatistics
from core.statistics.dashboard import Client, scope
from core.web.periods import day_range, today, user_zone

PERIOD_DAYS: dict[str, int | None] = {"all": None, "day": 1, "week": 7, "month": 30, "year": 365}


def _shortener(portal: Portal) -> Shortener | None:
    return active_shortener(portal.registries.shorteners)


async def _partners(actor: Actor, client_id: int | None) -> tuple[Any, PartnerScope, list[Client]]:
    """The partners whose links count (the dashboard's rule): as the dashboard has them (ids, or a sub-select of a
    large subtree) for the core's own queries, as the shortener's ``PartnerScope``, and the clients a manager may
    pick from."""
    partners, _, clients = await scope(actor, client_id)
    # The dashboard answers a sub-select only for the manager's own large subtree: the shortener gets its path.
    hook = PartnerScope(ids=tuple(partners)) if isinstance(partners, list) else PartnerScope(subtree=actor.partner_path)
    return partners, hook, clients


async def _campaign_name(partners: Any, campaign_id: int) -> str:
    row = await (
        Campaign.select(Campaign.name).where((Campaign.id == campaign_id) & Campaign.partner.is_in(partners)).first()
    )
    if row is None:
        raise NotFound("Campaign")
    return row["name"]


def period_start(period: ClickPeriod, zone: str) -> datetime | None:
    """Where a period begins: the start of today (Day) or of the day 6, 29 or 364 days before it, in the user's
    zone; None for All."""
    days = PERIOD_DAYS[period]
    if not days:
        return None
    return day_range(today(zone) - timedelta(days=days - 1), None, zone)[0]


async def statistics(
    portal: Portal,
    actor: Actor,
    *,
    period: ClickPeriod = "all",
    domain: str | None = None,
    campaign_id: int | None = None,
    client_id: int | None = None,
) -> ShortLinkStatistics:
    """Clicks on the links in the actor's scope: a campaign or short domain outside it is a missing one (404)."""
    if period not in PERIOD_DAYS:
        raise InvalidInput("Choose all, day, week, month or year", field="period")
    partners, shortener_scope, clients = await _partners(actor, client_id)
    name = await _campaign_name(partners, campaign_id) if campaign_id is not None else ""
    shortener = _shortener(portal)
    domain = domain.lower() if domain else None
    # A domain taken back keeps its links (and their statistics) until they are archived.
    if domain and domain not in actor.short_domains:
        groups = await shortener.link_groups(shortener_scope) if shortener else []
        if all(g.domain != domain for g in groups):
            raise NotFound("Short domain")
    zone = user_zone(actor.timezone).key
    stats = (
        await shortener.statistics(
            shortener_scope, domain=domain, campaign_id=campaign_id, since=period_start(period, zone), zone=zone
        )
        if shortener
        else ClickStats()
    )
    return ShortLinkStatistics(
        period=period,
        domain=domain,
        campaign_id=campaign_id,
        campaign_name=name,
        client_id=client_id,
        clients=clients,
        time_zone=zone,
        stats=stats,
    )


async def shortened_campaigns(portal: Portal, actor: Actor, client_id: int | None = None) -> list[ShortenedCampaign]:
    """The links in the actor's scope grouped by domain and campaign, newest first."""
    shortener = _shortener(portal)
    partners, shortener_scope, _ = await _partners(actor, client_id)
    groups = await shortener.link_groups(shortener_scope) if shortener else []
    ids = [g.campaign_id for g in groups if g.campaign_id is not None]
    names = {
        r["id"]: r["name"]
        for r in (
            await Campaign.select(Campaign.id, Campaign.name).where(
                Campaign.id.is_in(ids) & Campaign.partner.is_in(partners)
            )
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
