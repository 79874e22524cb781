"""A batch's answers are recorded while it is still being submitted: the campaign's counters move at once, and a
crash mid-batch loses none of what was already answered (test_crash.py kills the workers)."""

from __future__ import annotations

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.campaigns.tables import Campaign
from core.db import json_value
from core.dispatch.tables import CampaignBatch, VendorConnection
from tests.core.dispatch.conftest import SmsWorld, wait_for_status
from tests.waiting import eventually

NUMBERS = [f"34607{n:06d}" for n in range(400)]


async def _throughput(rate: int) -> None:
    connection = await VendorConnection.select().first()
    slow = {**json_value(connection["settings"]), "throughput": rate}
    await VendorConnection.update({VendorConnection.settings: slow}).where(VendorConnection.id == connection["id"])


async def test_sent_messages_count_while_their_batch_is_still_submitting(app, sms: SmsWorld):
    await _throughput(100)  # the 400-message batch takes about 4 s to submit
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=NUMBERS)
    )

    async def counted_mid_batch() -> bool:
        row = await Campaign.select(Campaign.sent, Campaign.cost).where(Campaign.id == created.id).first()
        submitting = await CampaignBatch.exists().where(
            (CampaignBatch.campaign == created.id) & (CampaignBatch.state == "submitting")
        )
        return submitting and 0 < row["sent"] < len(NUMBERS) and row["cost"] > 0

    await eventually(counted_mid_batch, within=20)
    done = await wait_for_status(created.id, {"completed", "failed", "paused"})
    assert (done["status"], done["sent"], done["failed"]) == ("completed", len(NUMBERS), 0)
    assert max(sms.smsc.submitted.values()) == 1
