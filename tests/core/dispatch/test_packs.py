"""Packs in the engine (BIL-3, BIL-4): units are used before the plan, earliest expiry first, and come back when the
message does not go (or, By Delivered, is not delivered), through the real engine, database and stand-in SMSC."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

from core.billing.finance import FinanceEntry, FinanceFilter, export_csv, get_entry
from core.billing.tables import HeldPack, LedgerEntry, PlanAssignment
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import act, cost_preview, create_campaign
from core.campaigns.tables import Campaign
from core.db import json_value
from core.dispatch.tables import CampaignBatch, CampaignLevel, Edr, EdrCharge
from core.money import from_micros
from core.tenancy.tables import Partner
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import (
    ES_ALL,
    ES_VODAFONE,
    FUNDS,
    R_VODAFONE,
    SmsWorld,
    fund,
    hold,
    level_plan,
    wait_for_status,
)
from tests.waiting import eventually

VODAFONE = [f"34607{n:06d}" for n in range(200)]  # Spanish Vodafone (214 01) mobiles
FRANCE = "33612345678"
LONG = "x" * 200  # two GSM segments


async def remaining(pack_id: int) -> int:
    return (await HeldPack.select(HeldPack.remaining).where(HeldPack.id == pack_id).first())["remaining"]


async def balance(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


async def send(app, sms: SmsWorld, numbers: list[str], text: str = "Hi") -> dict:
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text=text, numbers=numbers)
    )
    return await wait_for_status(created.id, {"completed", "failed", "paused"})


async def test_a_pack_pays_first_and_the_plan_takes_over_when_it_runs_out_mid_batch(app, sms: SmsWorld):
    pack = await hold(sms.tenant.end_user_id, 5)
    done = await send(app, sms, VODAFONE[:8])

    assert done["status"] == "completed" and done["sent"] == 8
    edrs = await Edr.select(Edr.destination, Edr.pack, Edr.price).where(Edr.campaign == done["id"]).order_by(Edr.id)
    assert [e["pack"] for e in edrs] == [pack] * 5 + [None] * 3
    assert [e["price"] for e in edrs] == [0] * 5 + [ES_VODAFONE] * 3
    assert await remaining(pack) == 0
    # Only the three messages beyond the pack cost money, on the balance and on the campaign's cost.
    assert await balance(sms.tenant.end_user_id) == FUNDS - 3 * ES_VODAFONE
    assert done["cost"] == 3 * ES_VODAFONE
    assert sum(sms.smsc.submitted.values()) == 8

    # Finance history (BIL-7): the campaign's row says how much the packs paid, on a line of its own without a rate.
    async def breakdown() -> FinanceEntry | None:
        entry = await get_entry(sms.actor, done["ledger_entry_id"])
        return entry if entry.lines else None

    entry = await eventually(breakdown)
    assert entry.from_packs == 5 and entry.amount == -from_micros(3 * ES_VODAFONE)
    lines = sorted((line.quantity, line.rate, line.total, line.from_pack) for line in entry.lines)
    plan_line = (3, from_micros(ES_VODAFONE), from_micros(3 * ES_VODAFONE), False)
    assert lines == [plan_line, (5, None, from_micros(0), True)]
    exported = "".join([chunk async for chunk in await export_csv(sms.actor, FinanceFilter(kind="campaign"))])
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][-1] == "Messages from packs" and {r[-1] for r in rows[1:]} == {"5"}


async def test_the_pack_that_expires_first_is_used_first_and_a_spent_or_expired_one_never(app, sms: SmsWorld):
    later = await hold(sms.tenant.end_user_id, 10)
    sooner = await hold(sms.tenant.end_user_id, 3, days=5)
    expired = await hold(sms.tenant.end_user_id, 50, days=1)
    await HeldPack.update({HeldPack.expires_at: datetime.now(UTC) - timedelta(hours=1)}).where(HeldPack.id == expired)
    other_network = await hold(sms.tenant.end_user_id, 50, networks=["21403"])  # Orange only: not these numbers

    done = await send(app, sms, VODAFONE[:5])

    assert done["status"] == "completed"
    assert (await remaining(sooner), await remaining(later)) == (0, 8)
    assert (await remaining(expired), await remaining(other_network)) == (50, 50)
    assert await balance(sms.tenant.end_user_id) == FUNDS


async def test_sms_packs_count_segments_and_a_message_is_never_split(app, sms: SmsWorld):
    pack = await hold(sms.tenant.end_user_id, 5)
    done = await send(app, sms, VODAFONE[:3], text=LONG)

    edrs = await Edr.select(Edr.pack, Edr.parts).where(Edr.campaign == done["id"]).order_by(Edr.id)
    assert [e["parts"] for e in edrs] == [2, 2, 2]
    # Two messages take four units; the third needs two and one is left, so the plan pays for it whole.
    assert [e["pack"] for e in edrs] == [pack, pack, None]
    assert await remaining(pack) == 1
    assert await balance(sms.tenant.end_user_id) == FUNDS - 2 * ES_VODAFONE


async def test_a_pack_alone_sends_without_a_plan_until_it_runs_out(app, sms: SmsWorld):
    await PlanAssignment.delete().where(PlanAssignment.partner == sms.tenant.end_user_id)
    pack = await hold(sms.tenant.end_user_id, 4)
    done = await send(app, sms, [*VODAFONE[:6], FRANCE])

    assert done["status"] == "completed"
    edrs = {e["destination"]: e for e in await Edr.select().where(Edr.campaign == done["id"])}
    assert sum(1 for e in edrs.values() if e["pack"] == pack and e["status"] in ("SENT", "DELIVERED")) == 4
    # Beyond the pack, and where no pack or plan reaches, the message fails unpaid with the reason.
    failed = sorted(d for d, e in edrs.items() if e["status"] == "FAILED")
    assert failed == sorted([*VODAFONE[4:6], FRANCE])
    assert edrs[FRANCE]["error"].startswith("No rate plan")
    assert edrs[VODAFONE[5]]["error"] == "No rate for destination"
    assert done["failed"] == 3 and done["sent"] == 4
    assert await remaining(pack) == 0 and await balance(sms.tenant.end_user_id) == FUNDS
    assert sum(sms.smsc.submitted.values()) == 4


async def test_by_delivered_units_come_back_for_undelivered_messages_and_by_submitted_ones_do_not(app, sms: SmsWorld):
    sms.smsc.outcomes = {VODAFONE[0]: "undelivered", VODAFONE[1]: "expired", VODAFONE[10]: "undelivered"}
    delivered_mode = await hold(sms.tenant.end_user_id, 5, days=2, mode="delivered")
    done = await send(app, sms, VODAFONE[:5])

    async def reported() -> bool:
        return await Edr.count().where((Edr.campaign == done["id"]) & (Edr.status == "SENT")) == 0

    await eventually(reported)
    assert await remaining(delivered_mode) == 2  # five taken, the two not delivered given back
    undelivered = await Edr.select(Edr.pack).where((Edr.campaign == done["id"]) & (Edr.status != "DELIVERED"))
    assert [e["pack"] for e in undelivered] == [None, None]

    submitted_mode = await hold(sms.tenant.end_user_id, 5, mode="submitted")
    await HeldPack.update({HeldPack.remaining: 0}).where(HeldPack.id == delivered_mode)
    second = await send(app, sms, VODAFONE[10:15])

    async def reported_again() -> bool:
        return await Edr.count().where((Edr.campaign == second["id"]) & (Edr.status == "SENT")) == 0

    await eventually(reported_again)
    assert await remaining(submitted_mode) == 0  # submitted is what it pays for, delivered or not
    assert await balance(sms.tenant.end_user_id) == FUNDS


async def test_batches_given_back_unsent_give_their_units_back(app, sms: SmsWorld):
    pack = await hold(sms.tenant.end_user_id, 100)
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE[:12], max_per_second=1)
    created = await create_campaign(app.state.portal, sms.actor, data)

    async def claimed_ahead() -> bool:  # one batch sent, two more claimed (units taken), waiting for their second
        batches = await CampaignBatch.select(CampaignBatch.state).where(CampaignBatch.campaign == created.id)
        states = [b["state"] for b in batches]
        return states.count("done") >= 1 and states.count("billed") >= 2

    await eventually(claimed_ahead)
    await act(app.state.portal, sms.actor, created.id, "pause")

    async def settled() -> bool:
        batches = await CampaignBatch.select(CampaignBatch.state).where(CampaignBatch.campaign == created.id)
        return not any(b["state"] in ("billed", "submitting") for b in batches)

    await eventually(settled)
    row = await Campaign.select().where(Campaign.id == created.id).first()
    assert row["status"] == "paused" and 1 <= row["sent"] < 12
    assert await remaining(pack) == 100 - row["sent"]
    waiting = await Edr.select(Edr.pack, Edr.price).where((Edr.campaign == created.id) & (Edr.status == "PREPARED"))
    assert len(waiting) == 12 - row["sent"]
    # Back on their plan price until the next claim asks the packs again.
    assert {(e["pack"], e["price"]) for e in waiting} == {(None, ES_VODAFONE)}

    await act(app.state.portal, sms.actor, created.id, "resume")
    await wait_for_status(created.id, {"completed"})
    assert await remaining(pack) == 88 and await balance(sms.tenant.end_user_id) == FUNDS


async def test_two_campaigns_at_once_never_spend_one_unit_twice(app, sms: SmsWorld):
    pack = await hold(sms.tenant.end_user_id, 50)
    portal = app.state.portal
    created = await asyncio.gather(
        *(
            create_campaign(
                portal,
                sms.actor,
                CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE[n * 40 : n * 40 + 40]),
            )
            for n in range(2)
        )
    )
    done = [await wait_for_status(c.id, {"completed", "failed", "paused"}) for c in created]

    assert [d["status"] for d in done] == ["completed", "completed"]
    from_pack = await Edr.count().where(Edr.campaign.is_in([c.id for c in created]) & (Edr.pack == pack))
    assert from_pack == 50 and await remaining(pack) == 0
    assert await balance(sms.tenant.end_user_id) == FUNDS - 30 * ES_VODAFONE


async def test_the_levels_above_still_pay_for_what_a_pack_of_the_sender_paid(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller)
    await fund(reseller, FUNDS)
    before = await balance(reseller)
    pack = await hold(sms.tenant.end_user_id, 10)
    done = await send(app, sms, VODAFONE[:4])

    assert done["status"] == "completed" and await remaining(pack) == 6
    assert await balance(sms.tenant.end_user_id) == FUNDS
    assert await balance(reseller) == before - 4 * R_VODAFONE


async def test_the_cost_preview_counts_what_the_packs_pay_for(app, sms: SmsWorld):
    await hold(sms.tenant.end_user_id, 5)
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text=LONG, numbers=VODAFONE[:4])
    preview = await cost_preview(app.state.portal, sms.actor, data)

    # Two messages of two parts fit the five units; the other two are priced on the plan.
    assert (preview.from_packs, preview.pack_units) == (2, 4)
    assert preview.total == from_micros(2 * 2 * ES_VODAFONE)
    assert sum(line.recipients for line in preview.lines) == 2 and preview.no_rate == 0


async def test_a_reseller_s_own_pack_pays_for_what_it_is_charged_for_its_clients(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller)
    await fund(reseller, FUNDS)
    before = await balance(reseller)
    level_pack = await hold(reseller, 3)
    sms.smsc.outcomes = {VODAFONE[1]: "undelivered"}
    done = await send(app, sms, VODAFONE[:5])

    assert done["status"] == "completed"
    # The client pays its plan for all five; the reseller's pack pays for three of its charges, its plan for two.
    assert await balance(sms.tenant.end_user_id) == FUNDS - 5 * ES_VODAFONE
    assert await remaining(level_pack) == 0
    assert await balance(reseller) == before - 2 * R_VODAFONE
    charges = await EdrCharge.select(EdrCharge.pack).where(EdrCharge.partner == reseller)
    assert sorted(c["pack"] or 0 for c in charges) == [0, 0, level_pack, level_pack, level_pack]
    # The reseller's Finance shows, on its row of the campaign, the messages its packs paid for.
    entry = (
        await LedgerEntry.select().where((LedgerEntry.partner == reseller) & (LedgerEntry.kind == "campaign")).first()
    )
    assert entry["amount"] == -2 * R_VODAFONE
    assert json_value(entry["details"])["from_packs"] == 3


async def test_a_reseller_without_a_plan_has_its_own_pack_pay_for_what_it_covers_and_is_charged_nothing(
    app, sms: SmsWorld
):
    reseller = sms.tenant.reseller_id
    await fund(reseller, FUNDS)
    before = await balance(reseller)
    # The owner set the reseller no plan; it holds a pack for Vodafone Spain only, three units.
    level_pack = await hold(reseller, 3, networks=["21401"])
    other_network = "34612345001"  # Spanish, not Vodafone: the pack does not cover it
    done = await send(app, sms, [*VODAFONE[:4], other_network])

    assert done["status"] == "completed" and done["sent"] == 5
    # The client pays its plan for all five, once.
    assert await balance(sms.tenant.end_user_id) == FUNDS - 4 * ES_VODAFONE - ES_ALL
    assert done["cost"] == 4 * ES_VODAFONE + ES_ALL
    # The pack pays for three; the fourth Vodafone message goes on at price 0 and the other network has no charge.
    assert await remaining(level_pack) == 0
    assert await balance(reseller) == before
    charges = await EdrCharge.select(EdrCharge.pack, EdrCharge.price).where(EdrCharge.partner == reseller)
    assert sorted((c["pack"] or 0, c["price"]) for c in charges) == [(0, 0)] + [(level_pack, 0)] * 3
    # Finance: the reseller's row of the campaign moved nothing and counts the messages its pack paid for.
    reseller_actor = await actor_of(sms.tenant, sms.tenant.reseller_admin)
    entry_row = (
        await LedgerEntry.select().where((LedgerEntry.partner == reseller) & (LedgerEntry.kind == "campaign")).first()
    )
    entry = await get_entry(reseller_actor, entry_row["id"])
    assert entry.amount == 0 and entry.from_packs == 3


async def test_a_reseller_with_neither_pack_nor_plan_has_no_rows_at_all(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    before = await balance(reseller)
    done = await send(app, sms, VODAFONE[:3])

    assert done["status"] == "completed" and await balance(sms.tenant.end_user_id) == FUNDS - 3 * ES_VODAFONE
    assert await balance(reseller) == before
    assert await EdrCharge.count().where(EdrCharge.partner == reseller) == 0
    assert await CampaignLevel.count().where(CampaignLevel.partner == reseller) == 0
    assert await LedgerEntry.count().where((LedgerEntry.partner == reseller) & (LedgerEntry.kind == "campaign")) == 0
