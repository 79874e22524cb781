"""Shortener fixtures: a short domain granted down to company A, and its end user's actor that can use it."""

from __future__ import annotations

import asyncio

from core.actor import Actor
from core.portal import Portal
from core.shortlinks.clicks import flush
from core.tenancy import short_domains
from core.tenancy.schemas import ShortDomainCreate
from plugins.shortener.tables import LinkClick
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import sms  # noqa: F401 — the SMS world fixture, shared
from tests.factories import Tenant, World
from tests.plugins.viber.conftest import aggregator, served, viber  # noqa: F401 — the Viber world, shared

DOMAIN = "go.test"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.0 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile"
    " Safari/537.36"
)


async def grant_domain(world: World, tenant: Tenant, host: str = DOMAIN) -> Actor:
    """Add ``host`` and grant it owner → reseller → company; the company's actor, which now has it."""
    domain = await short_domains.create_domain(world.owner, ShortDomainCreate(host=host))
    await short_domains.grant(world.owner, domain.id, tenant.reseller_id)
    reseller = await actor_of(tenant, tenant.reseller_admin)
    await short_domains.grant(reseller, domain.id, tenant.end_user_id)
    actor = await actor_of(tenant)
    assert host in actor.short_domains
    return actor


async def clicks_stored(portal: Portal, count: int, within: float = 15.0) -> None:
    """Wait until ``count`` clicks are stored (and not one more), flushing the click stream as the worker's cron does.

    The test flushes too instead of counting on the shared session worker's one-second tick: that tick was seen
    not to come for over 15 s in CI (no cron:flush_clicks enqueued; cause not found). Entries are stored once
    whoever flushes them (the entry id is unique), so the cron running beside it changes nothing.
    """
    async with asyncio.timeout(within):
        while (stored := await LinkClick.count()) < count:
            await flush(portal, "test-flush")
            await asyncio.sleep(0.05)
    assert stored == count
