"""Fair sharing of the send slots (DSP-5): big campaigns holding every slot give them up to a small one in turn."""

from __future__ import annotations

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import act, create_campaign
from core.campaigns.tables import Campaign
from core.dispatch.queueing import SENDERS_PER_CAMPAIGN
from tests.core.dispatch.conftest import SmsWorld, fund, wait_for_status
from tests.waiting import eventually

BIG = 600  # at 20 messages a second: 30 s of sending each


async def test_a_small_campaign_goes_out_while_big_ones_hold_every_send_slot(app, sms: SmsWorld, settings):
    portal = app.state.portal
    await fund(sms.tenant.end_user_id, 500_000_000)
    bigs = []
    for c in range(settings.send_concurrency // SENDERS_PER_CAMPAIGN):
        numbers = [f"34607{c:02d}{n:04d}" for n in range(BIG)]
        data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Big", numbers=numbers, max_per_second=20)
        bigs.append((await create_campaign(portal, sms.actor, data)).id)
    try:

        async def every_slot_taken() -> bool:
            return await portal.send_queue.count("active") >= settings.send_concurrency

        await eventually(every_slot_taken)
        small = await create_campaign(
            portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Small", numbers=["34608000001"])
        )
        # Without sharing it would wait for a big one to end (30 s); each big job gives its slot up after a second.
        done = await wait_for_status(small.id, {"completed", "failed", "paused"}, limit_s=12)
        assert (done["status"], done["delivered"]) == ("completed", 1)
        rows = await Campaign.select(Campaign.status, Campaign.sent).where(Campaign.id.is_in(bigs))
        assert all(r["status"] == "in_progress" and r["sent"] < BIG for r in rows)  # still sending meanwhile
    finally:
        for campaign_id in bigs:
            await act(portal, sms.actor, campaign_id, "pause")
            await act(portal, sms.actor, campaign_id, "cancel")
    for campaign_id in bigs:
        assert (await wait_for_status(campaign_id, {"canceled"}))["status"] == "canceled"
    assert max(sms.smsc.submitted.values()) == 1  # nothing sent twice across the slots given up and taken again
