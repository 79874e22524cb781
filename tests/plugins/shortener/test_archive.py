"""The archive: a finished campaign's links redirect for the configured days, then 404 while kept, then go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plugins.shortener import archive
from plugins.shortener.plugin import SHORTENER
from plugins.shortener.tables import LinkClick, ShortLinkRow
from tests.core.dispatch.conftest import SmsWorld
from tests.factories import api_token
from tests.plugins.shortener.conftest import DOMAIN, IPHONE, clicks_stored
from tests.plugins.shortener.test_links import _shortened
from tests.waiting import eventually


async def test_finished_campaign_links_are_archived_then_deleted(app, sms: SmsWorld, client_for):
    campaign_id, codes = await _shortened(app, sms, ["34612000001"])

    async def scheduled() -> bool:
        row = await ShortLinkRow.select(ShortLinkRow.inactive_at).where(ShortLinkRow.code == codes[0]).first()
        return row["inactive_at"] is not None

    await eventually(scheduled)  # the campaign completed: its links' end is set, active_days from now
    row = await ShortLinkRow.select(ShortLinkRow.inactive_at).where(ShortLinkRow.code == codes[0]).first()
    days = (row["inactive_at"] - datetime.now(UTC)).total_seconds() / 86400
    assert abs(days - SHORTENER.settings.active_days) < 0.01
    phone = client_for(DOMAIN)
    assert (await phone.get(f"/{codes[0]}", headers={"User-Agent": IPHONE})).status_code == 302

    await clicks_stored(app.state.portal, 1)
    # Time passes: the link is archived, answers the 404 page, and its statistics stay.
    long_ago = datetime.now(UTC) - timedelta(days=SHORTENER.settings.active_days, seconds=1)
    await archive.schedule_inactive(SHORTENER, campaign_id, long_ago)
    SHORTENER.forget()  # other processes' caches forget within a minute
    assert (await phone.get(f"/{codes[0]}")).status_code == 404
    client = client_for(sms.tenant.host)
    headers = await api_token(client, sms.tenant.end_user_admin)
    listed = (await client.get("/api/shortener/campaigns", headers=headers)).json()
    assert [(c["campaign_id"], c["archived"]) for c in listed] == [(campaign_id, True)]
    stats = await client.get(f"/api/shortener/campaigns/{campaign_id}/statistics", headers=headers)
    assert stats.json()["stats"]["total"] == 1
    # Kept archive_days, then deleted with its clicks by the periodic job.
    soon = datetime.now(UTC) + timedelta(days=SHORTENER.settings.archive_days - 1)
    assert await archive.purge(SHORTENER.settings, now=soon) == 0
    later = datetime.now(UTC) + timedelta(days=SHORTENER.settings.archive_days + 1)
    assert await archive.purge(SHORTENER.settings, now=later) == 1
    assert await ShortLinkRow.count() == 0 and await LinkClick.count() == 0
