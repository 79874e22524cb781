"""The dashboard's rollups (DSH-2): triggers on edr keep them, the fold adds them up, reads are exact at any moment."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.accounts.tables import User
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.db import is_sqlite
from core.dispatch.tables import Edr
from core.providers import DeliveryReport
from core.statistics import rollups
from core.statistics.dashboard import dashboard
from core.statistics.tables import EdrRollup, EdrRollupDelta, EdrRollupStatus
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import SmsWorld
from tests.core.statistics.test_edr import edr
from tests.factories import make_world
from tests.waiting import eventually

CENT = 10_000  # micro-units
NUMBERS = [f"34607{n:06d}" for n in range(40)]


@pytest.fixture
def manual_fold(monkeypatch: pytest.MonkeyPatch) -> object:
    """The worker's cron leaves the deltas alone, so a test sees them before and after its own fold."""

    async def idle() -> int:
        return 0

    monkeypatch.setattr(rollups, "fold_all", idle)
    return rollups.fold


async def fold_everything() -> int:
    total = 0
    while folded := await rollups.fold(batch=7):  # small batches: the fold's limit and its loop are exercised
        total += folded
    return total


async def straight_from_edrs(partner_ids: list[int], start: datetime, end: datetime) -> tuple[Counter, Counter, int]:
    rows = await Edr.select(Edr.channel, Edr.status, Edr.price).where(
        Edr.partner.is_in(partner_ids) & (Edr.created_at >= start) & (Edr.created_at < end)
    )
    return (
        Counter(r["status"] for r in rows),
        Counter(r["channel"] for r in rows),
        sum(r["price"] for r in rows),
    )


async def graphs_equal_the_edrs(actor, partner_ids: list[int], period: str = "today") -> int:
    d = await dashboard(actor, period)
    by_status, by_channel, cost = await straight_from_edrs(partner_ids, d.start, d.end)
    assert {s.key: s.messages for s in d.by_status} == dict(by_status)
    assert {s.key: s.messages for s in d.by_channel} == dict(by_channel)
    assert d.total_messages == sum(by_status.values())
    assert d.total_cost is not None and int(d.total_cost * 1_000_000) == cost
    return d.total_messages


async def test_graphs_equal_the_edrs_after_mixed_outcomes_and_late_receipts_before_and_after_the_fold(
    app, sms: SmsWorld, manual_fold
):
    # 30 delivered, 4 undelivered, 2 rejected, 4 with no receipt yet (late ones come below)
    sms.smsc.outcomes = {
        **{n: "undelivered" for n in NUMBERS[30:34]},
        **{n: "rejected" for n in NUMBERS[34:36]},
        **{n: "never" for n in NUMBERS[36:]},
    }
    portal = app.state.portal
    partner = sms.tenant.end_user_id
    created = await create_campaign(
        portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=NUMBERS)
    )

    async def settled() -> list[str]:
        rows = await Edr.select(Edr.vendor_message_id).where(
            (Edr.campaign == created.id) & Edr.destination.is_in(NUMBERS[36:]) & (Edr.status == "SENT")
        )
        pending = Edr.status.is_in(["PREPARED", "BILLED", "SENT"])
        others = await Edr.count().where((Edr.campaign == created.id) & pending)
        return [r["vendor_message_id"] for r in rows] if len(rows) == 4 and others == 4 else []

    late = await eventually(settled)
    assert await EdrRollupDelta.count() > 0 and await EdrRollup.count() == 0  # nothing folded yet
    assert await graphs_equal_the_edrs(sms.actor, [partner]) == 40

    await fold_everything()
    assert await EdrRollupDelta.count() == 0
    assert await graphs_equal_the_edrs(sms.actor, [partner]) == 40

    # Late receipts move messages from SENT after the fold; the deltas wait, the graphs already show them.
    await portal.record_deliveries(
        "sms",
        [
            DeliveryReport(vendor_message_id=late[0], state="delivered"),
            DeliveryReport(vendor_message_id=late[1], state="delivered"),
            DeliveryReport(vendor_message_id=late[2], state="undelivered"),
        ],
    )
    assert await EdrRollupDelta.count() > 0
    d = await dashboard(sms.actor, "today")
    assert {s.key: s.messages for s in d.by_status}["SENT"] == 1
    await graphs_equal_the_edrs(sms.actor, [partner])
    await fold_everything()
    await graphs_equal_the_edrs(sms.actor, [partner])
    # A price change after the fact (a free late delivery) moves the cost, not the count.
    await Edr.update({Edr.price: 0}).where(Edr.vendor_message_id == late[0])
    await graphs_equal_the_edrs(sms.actor, [partner])
    await fold_everything()
    await graphs_equal_the_edrs(sms.actor, [partner])
    rollup = await EdrRollup.select().where(EdrRollup.partner == partner)
    assert sum(r["messages"] for r in rollup) == 40 and all(r["sender"] and r["country_iso"] == "ES" for r in rollup)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kathmandu"])
async def test_a_day_in_a_zone_far_from_utc_counts_its_own_hours(app, manual_fold, zone):
    world = await make_world()
    await User.update({User.timezone: zone}).where(User.email == world.a.end_user_admin)
    actor = await actor_of(world.a)
    midnight = datetime.now(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    await edr(world.a.end_user_id, created_at=midnight + timedelta(minutes=1), price=CENT)  # today there
    await edr(world.a.end_user_id, created_at=midnight + timedelta(minutes=59), price=CENT)
    await edr(world.a.end_user_id, created_at=midnight - timedelta(minutes=1), price=2 * CENT)  # yesterday there
    await edr(world.a.end_user_id, created_at=midnight - timedelta(minutes=31), price=2 * CENT)
    await edr(world.a.end_user_id, created_at=midnight - timedelta(days=1, minutes=1), price=4 * CENT)  # 2 days ago
    for _ in range(2):  # unfolded, then folded
        today = await dashboard(actor, "today")
        assert (today.total_messages, str(today.total_cost)) == (2, "0.02")
        week = await dashboard(actor, "7d")
        assert (week.total_messages, str(week.total_cost)) == (5, "0.1")
        await graphs_equal_the_edrs(actor, [world.a.end_user_id], "7d")
        await fold_everything()


async def test_another_partners_numbers_never_appear(app, manual_fold):
    world = await make_world()
    now = datetime.now(UTC)
    await edr(world.a.end_user_id, created_at=now, price=CENT)
    await edr(world.a.reseller_id, created_at=now, price=CENT, channel="viber", status="SEEN")
    for _ in range(3):
        await edr(world.b.end_user_id, created_at=now, price=5 * CENT)
    await fold_everything()
    await edr(world.b.end_user_id, created_at=now, price=5 * CENT)  # an unfolded delta of another tenant
    reseller = await actor_of(world.a, world.a.reseller_admin)
    d = await dashboard(reseller, "today")
    assert (d.total_messages, str(d.total_cost)) == (2, "0.02")
    assert {s.key: s.messages for s in d.by_channel} == {"sms": 1, "viber": 1}
    one = await dashboard(reseller, "today", world.a.end_user_id)
    assert (one.total_messages, [s.key for s in one.by_status]) == (1, ["DELIVERED"])
    end_user = await dashboard(await actor_of(world.a), "today")
    assert end_user.total_messages == 1
    other = await dashboard(await actor_of(world.b), "today")
    assert (other.total_messages, str(other.total_cost)) == (4, "0.2")


async def test_deletes_are_taken_back_and_concurrent_folds_add_each_delta_once(app, manual_fold):
    world = await make_world()
    now = datetime.now(UTC)
    ids = [await edr(world.a.end_user_id, created_at=now, price=CENT) for _ in range(30)]
    await Edr.update({Edr.status: "UNDELIVERED"}).where(Edr.id.is_in(ids[:10]))
    await Edr.delete().where(Edr.id.is_in(ids[25:]))
    if is_sqlite():
        await fold_everything()
    else:
        # Two workers at once: one holds the fold's lock, the other gets 0 and leaves the work to it.
        waiting = await EdrRollupDelta.count()
        folded = await asyncio.gather(*(rollups.fold(batch=1_000) for _ in range(4)))
        assert sum(folded) == waiting and sorted(folded)[-2] == 0  # one fold took them all, once
    assert await EdrRollupDelta.count() == 0
    rows = await EdrRollup.select(EdrRollup.status, EdrRollup.messages, EdrRollup.cost).where(EdrRollup.messages != 0)
    assert sorted((r["status"], r["messages"], r["cost"]) for r in rows) == [
        ("DELIVERED", 15, 15 * CENT),
        ("UNDELIVERED", 10, 10 * CENT),
    ]
    by_status = await EdrRollupStatus.select(EdrRollupStatus.status, EdrRollupStatus.messages, EdrRollupStatus.cost)
    assert sorted((r["status"], r["messages"], r["cost"]) for r in by_status if r["messages"]) == [
        ("DELIVERED", 15, 15 * CENT),
        ("UNDELIVERED", 10, 10 * CENT),
    ]
    await graphs_equal_the_edrs(await actor_of(world.a), [world.a.end_user_id])
