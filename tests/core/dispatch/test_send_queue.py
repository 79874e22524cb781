"""Campaign send jobs run on a queue of their own: however many campaigns are sending, mail still goes out."""

from __future__ import annotations

import asyncio

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import act, create_campaign
from core.campaigns.tables import Campaign
from core.db import json_value
from core.dispatch.tables import CampaignBatch, VendorConnection
from core.mail.services import send_mail
from core.mail.tables import MailMessage
from tests.core.dispatch.conftest import SmsWorld, fund, wait_for_status

CAMPAIGNS = 6  # times 4 send jobs: more than the main worker's 20 slots in the tests


async def test_mail_goes_out_while_campaigns_hold_every_send_slot(app, sms: SmsWorld, settings):
    portal = app.state.portal
    # The vendor answers nothing for a while: every send job sits waiting with a batch in flight.
    connection = await VendorConnection.select().first()
    slow = {**json_value(connection["settings"]), "response_timeout": 15}
    await VendorConnection.update({VendorConnection.settings: slow}).where(VendorConnection.id == connection["id"])
    sms.smsc.mute = True
    await fund(sms.tenant.end_user_id, 500_000_000)  # 12,000 messages at 0.04 EUR, every batch paid
    created = [
        await create_campaign(
            portal,
            sms.actor,
            CampaignCreate(
                sender_id=sms.tenant.sender_id, text="Hi", numbers=[f"34607{c:02d}{n:04d}" for n in range(2000)]
            ),
        )
        for c in range(CAMPAIGNS)
    ]
    ids = [c.id for c in created]
    try:
        for _ in range(300):
            busy = await CampaignBatch.count().where(
                CampaignBatch.campaign.is_in(ids) & (CampaignBatch.state == "submitting")
            )
            if busy >= settings.send_concurrency:
                break
            await asyncio.sleep(0.1)
        assert busy == settings.send_concurrency  # every send slot is taken, and no more than those

        mail_id = await send_mail(
            portal, to="ops@company-a.test", template="test_message", context={"name": "Ops", "brand_name": "Main"}
        )
        for _ in range(50):
            row = await MailMessage.select(MailMessage.status).where(MailMessage.id == mail_id).first()
            if row["status"] != "queued":
                break
            await asyncio.sleep(0.1)
        assert row["status"] == "outbox"  # delivered (no SMTP_URL in the tests: kept in the outbox) within 5 s
    finally:
        for campaign_id in ids:
            if (await Campaign.select(Campaign.status).where(Campaign.id == campaign_id).first())["status"] != "paused":
                await act(portal, sms.actor, campaign_id, "pause")
            await act(portal, sms.actor, campaign_id, "cancel")
        sms.smsc.mute = False
        for _ in range(300):  # the send jobs give up their unanswered batches, then see the campaigns canceled
            if not await CampaignBatch.exists().where(
                CampaignBatch.campaign.is_in(ids) & CampaignBatch.state.is_in(["billed", "submitting"])
            ):
                break
            await asyncio.sleep(0.1)
    for campaign_id in ids:
        assert (await wait_for_status(campaign_id, {"canceled"}))["status"] == "canceled"
