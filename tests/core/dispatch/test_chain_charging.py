"""Chain charging (issue 11 item 1): owner → reseller → end user, each level paying the price its parent sets.

The end user pays its plan (ES_ALL / ES_VODAFONE, from the shared SMS world); the reseller pays the owner's plan for
it (R_VODAFONE, R_ALL), through the real engine, the real database and the stand-in SMSC.
"""

from __future__ import annotations

import asyncio

from core.accounts.services import load_actor
from core.billing.tables import LedgerEntry
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import act, create_campaign
from core.campaigns.tables import Campaign
from core.dispatch.campaign_state import BY_PROVIDER
from core.dispatch.tables import CampaignLevel, Edr, EdrCharge
from core.senders.schemas import SenderCreate
from core.senders.services import create_sender
from core.tenancy.schemas import PartnerCreate
from core.tenancy.services import create_partner
from core.tenancy.tables import AuditEntry, Partner
from tests.core.dispatch.conftest import (
    ES_ALL,
    ES_VODAFONE,
    FUNDS,
    R_ALL,
    R_VODAFONE,
    SmsWorld,
    add_plan,
    fund,
    level_plan,
    wait_for_status,
)
from tests.factories import add_user
from tests.waiting import eventually

VODAFONE = [f"34607{n:06d}" for n in range(1200)]
OTHER = [f"34612{n:06d}" for n in range(500, 520)]  # Spanish, not Vodafone: All networks


async def funds(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


async def set_funds(partner_id: int, balance: int, credit_limit: int = 0) -> None:
    await fund(partner_id, balance - await funds(partner_id))
    await Partner.update({Partner.credit_limit: credit_limit}).where(Partner.id == partner_id)


async def level_ledger(campaign_id: int, partner_id: int) -> dict:
    level = await CampaignLevel.select().where(
        (CampaignLevel.campaign == campaign_id) & (CampaignLevel.partner == partner_id)
    )
    assert len(level) == 1, level
    return await LedgerEntry.select().where(LedgerEntry.id == level[0]["ledger_entry"]).first()


async def charged_at_level(campaign_id: int, partner_id: int) -> int:
    """What edr_charge says the level was charged for the campaign's charged (not failed) messages."""
    edrs = await Edr.select(Edr.id).where((Edr.campaign == campaign_id) & (Edr.status != "FAILED"))
    rows = await EdrCharge.select(EdrCharge.price).where(
        EdrCharge.edr.is_in([e["id"] for e in edrs] or [0]) & (EdrCharge.partner == partner_id)
    )
    return sum(r["price"] for r in rows)


async def test_every_level_pays_its_own_price_with_its_own_ledger_row(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller, others=None)  # the reseller has no rate for non-Vodafone networks
    await set_funds(reseller, FUNDS)
    sms.smsc.outcomes = {VODAFONE[1]: "undelivered"}
    numbers = [*VODAFONE[:600], *OTHER[:3]]
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers)
    )
    done = await wait_for_status(created.id, {"completed", "failed", "paused"})

    assert done["status"] == "completed"
    # A level without a rate fails the message as "no rate", like the sender's own missing rate: nobody pays it.
    edrs = {e["destination"]: e for e in await Edr.select().where(Edr.campaign == created.id)}
    assert all(edrs[n]["status"] == "FAILED" and edrs[n]["error"] == "No rate for destination" for n in OTHER[:3])
    assert all(edrs[n]["price"] == 0 for n in OTHER[:3])
    assert (done["sent"], done["failed"], done["undelivered"]) == (600, 3, 1)
    # By Submitted: the undelivered message is paid at both levels.
    assert done["cost"] == 600 * ES_VODAFONE
    assert await funds(sms.tenant.end_user_id) == FUNDS - 600 * ES_VODAFONE
    assert await funds(reseller) == FUNDS - 600 * R_VODAFONE
    mine = await LedgerEntry.select().where(LedgerEntry.id == done["ledger_entry_id"]).first()
    theirs = await level_ledger(created.id, reseller)
    assert mine["amount"] == -600 * ES_VODAFONE and mine["partner"] == sms.tenant.end_user_id
    assert theirs["amount"] == -600 * R_VODAFONE and theirs["kind"] == "campaign"
    assert theirs["balance_after"] == FUNDS - 600 * R_VODAFONE
    assert await LedgerEntry.count().where((LedgerEntry.partner == reseller) & (LedgerEntry.kind == "campaign")) == 1
    assert await charged_at_level(created.id, reseller) == 600 * R_VODAFONE
    assert await EdrCharge.count().where(EdrCharge.partner == reseller) == 600
    # The owner is never charged: it has no parent.
    owner = await Partner.select(Partner.id).where(Partner.kind == "owner").first()
    assert await EdrCharge.count().where(EdrCharge.partner == owner["id"]) == 0


async def test_by_delivered_reserves_charges_and_releases_at_every_level(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    await add_plan(sms.tenant.end_user_id, mode="delivered")
    await level_plan(reseller)
    await set_funds(reseller, FUNDS)
    sms.smsc.outcomes = {VODAFONE[0]: "expired", VODAFONE[1]: "rejected"}
    created = await create_campaign(
        app.state.portal,
        sms.actor,
        CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=[*VODAFONE[:10], OTHER[0]]),
    )
    done = await wait_for_status(created.id, {"completed", "failed", "paused"})
    assert (done["status"], done["delivered"], done["undelivered"]) == ("completed", 9, 2)
    assert done["cost"] == 8 * ES_VODAFONE + ES_ALL and done["reserved"] == 0
    assert await funds(sms.tenant.end_user_id) == FUNDS - 8 * ES_VODAFONE - ES_ALL
    # The two undelivered messages were released at the reseller's level too.
    assert await funds(reseller) == FUNDS - 8 * R_VODAFONE - R_ALL
    assert (await level_ledger(created.id, reseller))["amount"] == -(8 * R_VODAFONE + R_ALL)


async def test_a_reseller_out_of_funds_pauses_with_a_neutral_reason_and_resume_finishes(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller)
    # Enough for one batch and a little more: the next batch cannot be paid by the reseller.
    await set_funds(reseller, 510 * R_VODAFONE)
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE)
    )
    paused = await wait_for_status(created.id, {"paused", "completed", "failed"})
    assert paused["status"] == "paused"
    assert paused["status_reason"] == BY_PROVIDER  # the end user learns nothing of its provider's money

    async def paid_batch_recorded() -> int:
        # The pause may commit while the one batch paid for is still with the SMSC: its results come after. With
        # several workers that batch is the first of 500 or (PostgreSQL skips locked rows) the last of 200.
        row = await Campaign.select(Campaign.sent).where(Campaign.id == created.id).first()
        return row["sent"] if row["sent"] in (200, 500) else 0

    sent = await eventually(paid_batch_recorded)
    assert await funds(reseller) == 510 * R_VODAFONE - sent * R_VODAFONE  # never below minus its credit limit (0)
    assert await funds(sms.tenant.end_user_id) == FUNDS - sent * ES_VODAFONE
    told = await AuditEntry.select().where(
        (AuditEntry.partner == reseller) & (AuditEntry.action == "campaign.provider_balance")
    )
    assert len(told) == 1 and told[0]["object_id"] == created.id
    assert "Reseller A" in told[0]["summary"] and "do not cover" in told[0]["summary"]
    # The end user's own log does not hold it.
    assert (
        await AuditEntry.count().where(
            (AuditEntry.partner == sms.tenant.end_user_id) & (AuditEntry.action == "campaign.provider_balance")
        )
        == 0
    )

    await fund(reseller, FUNDS)
    await act(app.state.portal, sms.actor, created.id, "resume")
    done = await wait_for_status(created.id, {"completed", "failed"})
    assert done["status"] == "completed" and done["sent"] == 1200
    assert await funds(reseller) == 510 * R_VODAFONE + FUNDS - 1200 * R_VODAFONE
    assert await funds(sms.tenant.end_user_id) == FUNDS - 1200 * ES_VODAFONE
    assert (await level_ledger(created.id, reseller))["amount"] == -1200 * R_VODAFONE


async def _second_client(sms: SmsWorld):
    """Another end user under the same reseller, with its own sender, plan and funds."""
    admin = await add_user(sms.tenant.reseller_id, "second-admin@a.test")
    reseller_actor = await load_actor(admin, 0, check_portal=False)
    assert reseller_actor is not None
    client = await create_partner(
        reseller_actor, PartnerCreate(name="Company A2", kind="end_user", portal_id=sms.tenant.portal_id)
    )
    user = await add_user(client.id, "user@a2.test")
    actor = await load_actor(user, sms.tenant.portal_id)
    assert actor is not None
    sender = await create_sender(sms.world.owner, client.id, SenderCreate(channel="sms", name="BrandA2"))
    await add_plan(client.id)
    await fund(client.id, FUNDS)
    return actor, sender.id


async def test_concurrent_campaigns_of_two_clients_never_overdraw_their_reseller(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller)
    limit = 700 * R_VODAFONE  # room for one client's 600 messages, not for both
    await set_funds(reseller, 0, credit_limit=limit)
    other_actor, other_sender = await _second_client(sms)
    portal = app.state.portal
    first, second = await asyncio.gather(
        create_campaign(
            portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE[:600])
        ),
        create_campaign(portal, other_actor, CampaignCreate(sender_id=other_sender, text="Hi", numbers=VODAFONE[600:])),
    )
    ends = [await wait_for_status(c.id, {"paused", "completed", "failed"}) for c in (first, second)]
    assert any(e["status"] == "paused" for e in ends)

    async def all_paid_batches_recorded() -> tuple[int, int] | None:
        # A pause can commit while a batch already paid for is still with the SMSC (its results are recorded after
        # it), so the count of sent messages catches up with the money a moment later; it must then match exactly.
        rows = await Campaign.select(Campaign.sent).where(Campaign.id.is_in([first.id, second.id]))
        sent, balance = sum(r["sent"] for r in rows), await funds(reseller)
        return (sent, balance) if balance == -sent * R_VODAFONE else None

    sent, balance = await eventually(all_paid_batches_recorded)
    assert balance >= -limit  # never below minus its credit limit
    assert sent < 1200  # exactly its price for every message that went out, and not all could
    level_total = sum([(await level_ledger(c.id, reseller))["amount"] for c in (first, second)])
    assert level_total == balance
