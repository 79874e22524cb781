"""Short links in campaigns (URL-1, URL-2): per-recipient codes at their real length, redirects, clicks."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest

from core import Click, LinkRecipient, LinkTarget
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import cost_preview, create_campaign
from core.dispatch.tables import Edr
from core.errors import InvalidInput
from core.shortlinks.clicks import flush
from core.shortlinks.stream import ENCODER, GROUP, STREAM, ClickEntry
from core.tenancy import short_domains
from plugins.shortener import archive
from plugins.shortener.plugin import SHORTENER
from plugins.shortener.tables import LinkClick, ShortLinkRow
from tests.core.dispatch.conftest import SmsWorld, wait_for_status
from tests.plugins.shortener.conftest import ANDROID_CHROME, DOMAIN, IPHONE, clicks_stored, grant_domain

LONG = "https://a.io"
CODE = re.compile(r"go\.test/([A-Za-z0-9]{8})")


def sale_text(length: int = 160) -> str:
    """A text of ``length`` characters ending in the link: one SMS part before shortening, two after."""
    return "x" * (length - len(LONG) - 1) + " " + LONG


async def _campaign(app, sms: SmsWorld, numbers: list[str]) -> list[str]:
    return (await _shortened(app, sms, numbers))[1]


async def _shortened(app, sms: SmsWorld, numbers: list[str]) -> tuple[int, list[str]]:
    actor = await grant_domain(sms.world, sms.tenant)
    data = CampaignCreate(
        sender_id=sms.tenant.sender_id, text=sale_text(), short_url=LONG, short_domain=DOMAIN, numbers=numbers
    )
    preview = await cost_preview(app.state.portal, actor, data)
    assert preview.parts_per_message == 2  # the 16-character short link replaced a 12-character one
    campaign = await create_campaign(app.state.portal, actor, data)
    assert (campaign.short_url, campaign.short_domain) == (LONG, DOMAIN)
    await wait_for_status(campaign.id, {"completed"})
    edrs = await Edr.select(Edr.text, Edr.parts, Edr.destination).where(Edr.campaign == campaign.id)
    assert len(edrs) == len(numbers) and all(e["parts"] == 2 for e in edrs)
    codes = [CODE.search(e["text"]).group(1) for e in edrs]
    assert len(set(codes)) == len(numbers) and all(LONG not in e["text"] for e in edrs)
    assert {r["destination"] for r in await ShortLinkRow.select().where(ShortLinkRow.campaign == campaign.id)} == {
        e["destination"] for e in edrs
    }
    return campaign.id, codes


async def test_codes_per_recipient_redirect_and_record_the_click(app, sms: SmsWorld, client_for):
    codes = await _campaign(app, sms, ["34612000001", "34612000002", "34612000003"])
    phone = client_for(DOMAIN)
    answer = await phone.get(f"/{codes[0]}", headers={"User-Agent": IPHONE})
    assert answer.status_code == 302 and answer.headers["location"] == LONG
    assert "set-cookie" not in answer.headers  # no CSRF cookie signed per click
    await phone.get(f"/{codes[1]}", headers={"User-Agent": ANDROID_CHROME})

    await clicks_stored(app.state.portal, 2)
    clicks = await LinkClick.select().order_by(LinkClick.os)
    assert [(c["os"], c["browser"]) for c in clicks] == [("Android", "Chrome Mobile"), ("iOS", "Mobile Safari")]
    assert all(c["campaign"] is not None and c["domain"] == DOMAIN for c in clicks)


async def test_unknown_and_archived_codes_get_the_404_page(app, sms: SmsWorld, client_for):
    codes = await _campaign(app, sms, ["34612000001"])
    phone = client_for(DOMAIN)
    unknown = await phone.get("/Zz9Zz9Zz")
    assert unknown.status_code == 404 and "no longer active" in unknown.text and "<html" in unknown.text
    campaign = (await ShortLinkRow.select(ShortLinkRow.campaign).where(ShortLinkRow.code == codes[0]).first())[
        "campaign"
    ]
    await archive.schedule_inactive(SHORTENER, campaign, datetime.now(UTC) - timedelta(days=365))
    SHORTENER.forget()
    archived = await phone.get(f"/{codes[0]}")
    assert archived.status_code == 404 and "no longer active" in archived.text
    # Portal hosts are not short domains: the same path is an ordinary page there.
    assert (await client_for(sms.tenant.host).get(f"/{codes[0]}")).status_code == 404


async def test_a_click_burst_while_the_click_worker_restarts_loses_nothing(app, sms: SmsWorld, client_for):
    codes = await _campaign(app, sms, ["34612000001", "34612000002"])
    phone = client_for(DOMAIN)
    burst = 60
    redis = app.state.portal.redis
    for i in range(burst):
        assert (await phone.get(f"/{codes[i % 2]}", headers={"User-Agent": IPHONE})).status_code == 302
        if i == burst // 2:
            # A worker takes part of the stream and dies before storing it: its entries stay pending.
            await flush_group(redis)
            await redis.xreadgroup(GROUP, "dead-worker", {STREAM: ">"}, count=20)
    await flush(app.state.portal, "restarted-worker", idle_ms=0)

    await clicks_stored(app.state.portal, burst)
    assert await redis.xlen(STREAM) == 0


async def test_concurrent_redirects_share_round_trips_to_the_stream_and_lose_no_click(
    app, sms: SmsWorld, client_for, monkeypatch
):
    codes = await _campaign(app, sms, ["34612000001", "34612000002"])
    redis = app.state.portal.redis
    pipelines = 0
    pipeline = redis.pipeline

    def counted(*args, **kwargs):
        nonlocal pipelines
        pipelines += 1
        return pipeline(*args, **kwargs)

    monkeypatch.setattr(redis, "pipeline", counted)
    phone = client_for(DOMAIN)
    short_domains.short_host_cache.clear()  # the burst finds the set of short domains stale: one read for all
    reads = 0
    read = short_domains.registered_hosts

    async def counted_read() -> list[str]:
        nonlocal reads
        reads += 1
        return await read()

    monkeypatch.setattr(short_domains, "registered_hosts", counted_read)
    burst = 20
    answers = await asyncio.gather(
        *(phone.get(f"/{codes[i % 2]}", headers={"User-Agent": IPHONE}) for i in range(burst))
    )
    assert all(a.status_code == 302 for a in answers)
    assert await redis.xlen(STREAM) == burst  # each redirect answered once its click was in the stream
    assert 1 <= pipelines < burst  # those in flight together went in one round trip
    assert 1 <= reads < burst  # not one read per request

    await clicks_stored(app.state.portal, burst)


async def test_a_failing_stream_fails_every_redirect_of_its_batch(app):
    from core.shortlinks.stream import ClickWriter

    class Refusing:
        def pipeline(self, transaction: bool):
            raise ConnectionError("redis is down")

    recipient = LinkRecipient(partner_id=1, campaign_id=None, destination="34612000001")
    entry = ClickEntry(LinkTarget(link_id=1, url=LONG, recipient=recipient, domain=DOMAIN), datetime.now(UTC), "")
    writer = ClickWriter(Refusing())
    results = await asyncio.gather(writer.add(entry), writer.add(entry), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]


async def test_entries_claimed_from_a_slow_worker_are_stored_once(app):
    """A worker slower than CLAIM_IDLE_MS between reading and acknowledging: another claims its entries and stores
    them, then the slow one stores them too. Each click is kept once; clicks given without a key still all count."""
    from core.shortlinks.clicks import _store

    recipient = LinkRecipient(partner_id=1, campaign_id=None, destination="34612000001")
    target = LinkTarget(link_id=1, url=LONG, recipient=recipient, domain=DOMAIN)
    entries = [
        (f"1700000000000-{n}".encode(), {b"c": ENCODER.encode(ClickEntry(target, datetime.now(UTC), IPHONE))})
        for n in range(10)
    ]
    assert await _store(app.state.portal, entries) == 10  # the worker that claimed them
    await _store(app.state.portal, entries)  # the slow worker, at last
    assert await LinkClick.count() == 10
    assert {r["os"] for r in await LinkClick.select(LinkClick.os)} == {"iOS"}


async def flush_group(redis) -> None:
    from core.shortlinks.clicks import ensure_group

    await ensure_group(redis)


async def test_shortening_needs_a_granted_domain_and_the_link_in_the_text(app, sms: SmsWorld):
    base = {"sender_id": sms.tenant.sender_id, "text": f"Sale {LONG}", "numbers": ["34612000001"]}
    cases = [
        ({"short_url": LONG, "short_domain": DOMAIN}, "short_domain"),  # not granted yet
        ({"short_domain": DOMAIN}, "short_url"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidInput) as refused:
            await create_campaign(app.state.portal, sms.actor, CampaignCreate(**(base | fields)))
        assert refused.value.field == field
    actor = await grant_domain(sms.world, sms.tenant)
    for fields, field in [
        ({"short_url": "https://elsewhere.io", "short_domain": DOMAIN}, "short_url"),
        ({"short_url": LONG, "short_domain": "other.test"}, "short_domain"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            await create_campaign(app.state.portal, actor, CampaignCreate(**(base | fields)))
        assert refused.value.field == field


async def test_a_full_read_of_the_stream_is_stored_in_statements_the_database_takes(app):
    # 5,000 clicks in one call, as one read of the stream: 45,000 values, above PostgreSQL's 32,767 per statement.
    recipient = LinkRecipient(partner_id=1, campaign_id=None, destination="34612000001")
    target = LinkTarget(link_id=1, url=LONG, recipient=recipient, domain=DOMAIN)
    click = Click(clicked_at=datetime.now(UTC), os="iOS", browser="Mobile Safari")
    await SHORTENER.record_clicks([(target, click)] * 5_000)
    assert await LinkClick.count() == 5_000


async def test_viber_messages_carry_their_recipients_own_short_links(app, viber, client_for):
    from tests.plugins.viber.conftest import ViberWorld

    assert isinstance(viber, ViberWorld)
    actor = await grant_domain(viber.world, viber.tenant)
    data = CampaignCreate(
        channel="viber",
        sender_id=viber.sender_id,
        text=f"Spring sale: {LONG}",
        short_url=LONG,
        short_domain=DOMAIN,
        numbers=["34607000001", "34607000002"],
    )
    campaign = await create_campaign(app.state.portal, actor, data)
    await wait_for_status(campaign.id, {"completed"})
    texts = [request.text for request in viber.aggregator.last_requests]
    codes = {CODE.search(text).group(1) for text in texts}
    assert len(texts) == 2 and len(codes) == 2 and all(LONG not in t for t in texts)
    answer = await client_for(DOMAIN).get(f"/{codes.pop()}", headers={"User-Agent": "Viber/21.6.0.0 (Android 13)"})
    assert answer.status_code == 302

    await clicks_stored(app.state.portal, 1)
    click = await LinkClick.select().first()
    assert (click["os"], click["browser"], click["campaign"]) == ("Android", "Viber", campaign.id)
