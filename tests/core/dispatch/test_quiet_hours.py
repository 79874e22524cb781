"""Quiet hours and throughput limits (CMP-8) through the real engine, database, Redis and stand-in SMSC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import act, cost_preview, create_campaign, get_campaign
from core.campaigns.tables import Campaign
from core.dispatch.quiet_hours import clock, is_open, parse_clock
from core.dispatch.sweeper import sweep
from core.dispatch.tables import CampaignBatch, Edr
from core.errors import InvalidInput
from core.numbering.zones import zone_of
from core.tenancy.tables import Partner
from tests.core.dispatch.conftest import ES_VODAFONE, FUNDS, SmsWorld, wait_for_status
from tests.waiting import eventually

MAINLAND = [f"34607{n:06d}" for n in range(30)]  # Spanish mobiles: the country's main zone, Europe/Madrid
CANARY = [f"34928{n:06d}" for n in range(20)]  # Gran Canaria landlines: Atlantic/Canary, an hour behind


def test_a_number_gets_its_own_zone_and_a_mobile_of_a_wide_country_its_main_one():
    assert zone_of("12125551234") == "America/New_York"
    assert zone_of("13105551234") == "America/Los_Angeles"
    assert zone_of("34928123456") == "Atlantic/Canary"
    assert zone_of("34607000001") == "Europe/Madrid"
    assert zone_of("79141234567") == "Europe/Moscow"
    assert zone_of("447700900123").startswith("Europe/")


def test_a_window_may_span_midnight():
    noon = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert is_open(parse_clock("09:00"), parse_clock("21:00"), "UTC", noon)
    assert not is_open(parse_clock("09:00"), parse_clock("21:00"), "Asia/Tokyo", noon)  # 21:00 there: closed
    assert is_open(parse_clock("20:00"), parse_clock("06:00"), "Asia/Tokyo", noon)
    assert not is_open(parse_clock("20:00"), parse_clock("06:00"), "UTC", noon)
    assert clock(parse_clock("7:05")) == "07:05"
    for wrong in ("24:00", "12:60", "noon", "12", "12:5"):
        with pytest.raises(ValueError):
            parse_clock(wrong)


def _madrid_window(before: int, after: int) -> tuple[str, str]:
    """A window from ``before`` minutes ago to ``after`` minutes ahead, in Madrid's local time."""
    now = datetime.now(ZoneInfo("Europe/Madrid"))
    return (now - timedelta(minutes=before)).strftime("%H:%M"), (now + timedelta(minutes=after)).strftime("%H:%M")


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("09:00", "", "window_until"),
        ("", "21:00", "window_from"),
        ("9am", "21:00", "window_from"),
        ("09:00", "09:00", "window_until"),
    ],
)
async def test_a_half_or_wrong_window_is_refused_naming_the_field(app, sms: SmsWorld, start: str, end: str, field: str):
    data = CampaignCreate(
        sender_id=sms.tenant.sender_id, text="Hi", numbers=MAINLAND[:2], window_from=start, window_until=end
    )
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(app.state.portal, sms.actor, data)
    assert refused.value.field == field
    assert not await Campaign.exists().where(Campaign.partner == sms.tenant.end_user_id)


async def test_messages_outside_their_local_window_wait_and_go_when_it_opens(app, sms: SmsWorld):
    portal = app.state.portal
    # Open in Madrid now; the Canaries, an hour behind, are 50 minutes short of it.
    start, end = _madrid_window(10, 40)
    data = CampaignCreate(
        sender_id=sms.tenant.sender_id, text="Hi", numbers=[*MAINLAND, *CANARY], window_from=start, window_until=end
    )
    preview = await cost_preview(portal, sms.actor, data)
    assert (preview.recipients, preview.waiting) == (50, 20)

    created = await create_campaign(portal, sms.actor, data)
    assert (created.window_from, created.window_until) == (start, end)

    async def mainland_sent() -> bool:
        rows = await Edr.select(Edr.destination, Edr.status).where(Edr.campaign == created.id)
        return len(rows) == 50 and all(r["status"] == "DELIVERED" for r in rows if r["destination"] in MAINLAND)

    await eventually(mainland_sent)
    await sweep(portal)  # the sweeper hands ready batches to senders only when their window is open
    waiting = await Edr.select(Edr.destination).where((Edr.campaign == created.id) & (Edr.status == "PREPARED"))
    assert sorted(r["destination"] for r in waiting) == CANARY
    waits = await get_campaign(sms.actor, created.id)
    assert (waits.status, waits.status_reason) == (
        "in_progress",
        "Waiting for the recipients' send window (quiet hours)",
    )
    assert not set(CANARY) & set(sms.smsc.submitted)

    # The window opens for the Canaries (as it would an hour later): the next sweep sends them.
    wider, _ = _madrid_window(90, 40)
    await Campaign.update({Campaign.window_from: parse_clock(wider)}).where(Campaign.id == created.id)
    await sweep(portal)
    done = await wait_for_status(created.id, {"completed", "failed", "paused"})
    assert (done["status"], done["sent"], done["delivered"], done["status_reason"]) == ("completed", 50, 50, "")
    assert sum(sms.smsc.submitted.values()) == 50 and max(sms.smsc.submitted.values()) == 1


async def test_a_throughput_limit_spreads_the_messages_over_time(app, sms: SmsWorld):
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=MAINLAND, max_per_second=10)
    created = await create_campaign(app.state.portal, sms.actor, data)
    assert created.max_per_second == 10
    done = await wait_for_status(created.id, {"completed", "failed", "paused"})
    assert (done["status"], done["sent"]) == ("completed", 30)
    sent = sorted(r["sent_at"] for r in await Edr.select(Edr.sent_at).where(Edr.campaign == created.id))
    # Three slots of ten a second apart: the last leaves 2 s after the first (unlimited, about 0.1 s). Each
    # sent_at is when its batch's results were recorded, which may lag its slot a little: asserted generously.
    assert (sent[-1] - sent[0]).total_seconds() >= 1.5
    assert max(sms.smsc.submitted.values()) == 1


async def test_a_paced_campaign_paused_gives_back_the_batches_waiting_for_their_slot(app, sms: SmsWorld):
    portal = app.state.portal
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=MAINLAND[:12], max_per_second=1)
    created = await create_campaign(portal, sms.actor, data)

    async def claimed_ahead() -> bool:  # one batch sent, two more claimed and paid, waiting for their second
        batches = await CampaignBatch.select(CampaignBatch.state).where(CampaignBatch.campaign == created.id)
        states = [b["state"] for b in batches]
        return states.count("done") >= 1 and states.count("billed") >= 2

    await eventually(claimed_ahead)
    await act(portal, sms.actor, created.id, "pause")
    paused_at = datetime.now(UTC)

    async def settled() -> list[dict]:
        batches = await CampaignBatch.select(CampaignBatch.state).where(CampaignBatch.campaign == created.id)
        return [] if any(b["state"] in ("billed", "submitting") for b in batches) else batches

    await eventually(settled)
    row = await Campaign.select().where(Campaign.id == created.id).first()
    prepared = await Edr.count().where((Edr.campaign == created.id) & (Edr.status == "PREPARED"))
    assert row["status"] == "paused" and 1 <= row["sent"] < 12 and prepared == 12 - row["sent"]
    # Only what was sent is paid for: the batches given back were refunded.
    balance = (await Partner.select(Partner.balance).where(Partner.id == sms.tenant.end_user_id).first())["balance"]
    assert balance == FUNDS - row["sent"] * ES_VODAFONE == FUNDS - row["cost"]
    assert sum(sms.smsc.submitted.values()) == row["sent"]
    # Nothing left after the pause but what was already on its way: the second waiting slot began 2 s after the
    # first batch, so a batch sent from it would show well over a second after the pause.
    sent_at = [r["sent_at"] for r in await Edr.select(Edr.sent_at).where(Edr.campaign == created.id) if r["sent_at"]]
    assert max(sent_at) < paused_at + timedelta(seconds=1.2)
