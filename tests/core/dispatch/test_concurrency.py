"""BIL-6 under concurrency: many workers paying from one balance never overdraw it, and the ledger sums exactly."""

from __future__ import annotations

import asyncio

from core.billing.tables import LedgerEntry
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.campaigns.tables import Campaign
from core.db import is_sqlite, write_transaction
from core.dispatch import money
from core.dispatch.expansion import expand
from core.dispatch.sending import send_campaign
from core.dispatch.tables import CampaignBatch, Edr
from core.rawsql import RawSql
from core.tenancy.tables import Partner
from tests.core.dispatch.conftest import ES_VODAFONE, FUNDS, SmsWorld, fund, wait_for_status


async def _balance(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


async def test_concurrent_debits_stop_exactly_at_the_credit_limit(app, sms: SmsWorld):
    partner = sms.tenant.end_user_id
    ledger = LedgerEntry(
        partner=partner, kind="campaign", amount=0, balance_after=FUNDS, currency="EUR", description="Race"
    )
    await ledger.save()
    price = FUNDS // 20  # the balance pays for exactly 20 of the 50 debits

    async def debit() -> bool:
        try:
            async with write_transaction() as tx:
                await money.move(RawSql(tx.connection, sqlite=is_sqlite()), partner, ledger.id, -price)
        except money.InsufficientBalance:
            return False
        return True

    outcomes = await asyncio.gather(*(debit() for _ in range(50)))
    assert outcomes.count(True) == 20
    assert await _balance(partner) == 0
    row = await LedgerEntry.select().where(LedgerEntry.id == ledger.id).first()
    assert row["amount"] == -FUNDS and row["balance_after"] == 0


async def test_many_workers_on_three_campaigns_share_one_balance_exactly(app, sms: SmsWorld):
    partner = sms.tenant.end_user_id
    await fund(partner, -FUNDS + 2_500 * ES_VODAFONE)  # pays for 2,500 of the 3 x 1,200 messages
    portal = app.state.portal
    campaigns = []
    for prefix in ("34607", "34610", "34617"):  # Vodafone Spain: one rate for all
        numbers = [f"{prefix}{i:06d}" for i in range(1200)]
        campaigns.append(
            await create_campaign(
                portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers)
            )
        )
    # Besides the queue's own send jobs, eight more "workers" per campaign race for the same batches.
    await asyncio.gather(*(send_campaign(portal, c.id) for c in campaigns for _ in range(8)))
    rows = [await wait_for_status(c.id, {"paused", "completed"}) for c in campaigns]
    ids = [c.id for c in campaigns]
    for _ in range(200):  # batches already paid for finish submitting
        busy = await CampaignBatch.exists().where(
            CampaignBatch.campaign.is_in(ids) & CampaignBatch.state.is_in(["billed", "submitting"])
        )
        if not busy:
            break
        await asyncio.sleep(0.05)
    rows = [await Campaign.select().where(Campaign.id == c.id).first() for c in campaigns]
    balance = await _balance(partner)
    assert balance >= 0  # the credit limit is 0
    assert max(sms.smsc.submitted.values()) == 1
    sent = sum(r["sent"] for r in rows)
    assert sum(r["cost"] for r in rows) == sent * ES_VODAFONE == 2_500 * ES_VODAFONE - balance
    assert any(r["status"] == "paused" and "Insufficient balance" in r["status_reason"] for r in rows)
    entries = await LedgerEntry.select().where(LedgerEntry.partner == partner)
    assert sum(e["amount"] for e in entries) == balance


async def test_two_jobs_expanding_one_campaign_never_send_a_recipient_twice(app, sms: SmsWorld):
    # A replaced job and the one it replaced (or saq re-queuing a job it saw just taken) can expand side by side.
    numbers = [f"34607{i:06d}" for i in range(12_000)]  # three chunks
    await fund(sms.tenant.end_user_id, len(numbers) * ES_VODAFONE)
    portal = app.state.portal
    created = await create_campaign(
        portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers)
    )

    async def nothing() -> None:
        return None

    # Beside the queue's own prepare job, two more start from the same checkpoint.
    await asyncio.gather(expand(portal, created.id, nothing), expand(portal, created.id, nothing))
    done = await wait_for_status(created.id, {"completed", "paused", "failed"}, limit_s=60)
    assert (done["status"], done["total"], done["sent"]) == ("completed", 12_000, 12_000)
    assert await Edr.count().where(Edr.campaign == created.id) == 12_000
    assert len(sms.smsc.submitted) == 12_000 and max(sms.smsc.submitted.values()) == 1
