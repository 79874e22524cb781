"""Receipts are matched per vendor connection: SMSCs that count alike, or count from 1 again after a restart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.campaigns.tables import Campaign
from core.dispatch import receipts
from core.dispatch.channels import ready_provider
from core.dispatch.sweeper import retry_early_reports
from core.dispatch.tables import EarlyReport, Edr, EdrPart, VendorConnection
from core.providers import DeliveryReport
from plugins.sms.simulator import StandInSmsc
from tests.core.dispatch.conftest import SmsWorld, wait_for_status
from tests.waiting import eventually

FIRST = [f"34607{n:06d}" for n in range(600)]  # Vodafone Spain: 34607000000…
SECOND = [f"34607{500_000 + n:06d}" for n in range(600)]  # 34607500000…, the same network and rate
# After a restart: ids 1…600 again and beyond, over three batches (fewer did not show the race with fast receipts).
LATER = [f"34607{500_000 + n:06d}" for n in range(1200)]


async def _edrs(campaign_id: int) -> list[dict]:
    return await Edr.select(Edr.connection, Edr.vendor_message_id, Edr.status, Edr.destination).where(
        Edr.campaign == campaign_id
    )


async def _connection_id(name: str) -> int:
    return (await VendorConnection.select(VendorConnection.id).where(VendorConnection.name == name).first())["id"]


async def _send(app, sms: SmsWorld, numbers: list[str], text: str = "Hi") -> int:
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text=text, numbers=numbers)
    return (await create_campaign(app.state.portal, sms.actor, data)).id


async def _second_smsc(outcome: str) -> StandInSmsc:
    """Another stand-in SMSC, configured as the vendor connection "Other"."""
    other = StandInSmsc(receipt_delay=0.05, default_outcome=outcome)
    await other.start("127.0.0.1", 0)
    now = datetime.now(UTC)
    await VendorConnection.insert(
        VendorConnection(
            channel="sms", name="Other", settings=other.connection_settings(), created_at=now, updated_at=now
        )
    )
    return other


async def _both_bound(app) -> None:
    """Wait until the SMS channel holds a bound session to each vendor connection, so a batch is spread over both
    (a campaign started while the second one still binds goes all through the first)."""
    provider = await ready_provider(app.state.portal, "sms")

    async def both_bound() -> bool:
        return len(provider.clients) == 2 and all(c.bound for c in provider.clients.values())

    await eventually(both_bound)


async def test_two_connections_whose_smscs_hand_out_the_same_ids_each_get_their_own_receipts(app, sms: SmsWorld):
    other = await _second_smsc("undelivered")
    try:
        for smsc in (sms.smsc, other):
            smsc.id_prefix = ""  # both count 00000001, 00000002, …
        await _both_bound(app)
        campaign = await _send(app, sms, FIRST + SECOND)  # three batches, each spread over both connections
        done = await wait_for_status(campaign, {"completed", "failed", "paused"}, limit_s=60)

        edrs = await _edrs(campaign)
        delivering, failing = await _connection_id("Stand-in"), await _connection_id("Other")
        by_connection = {c: [e for e in edrs if e["connection"] == c] for c in (delivering, failing)}
        assert len(by_connection[delivering]) + len(by_connection[failing]) == 1200
        shared = {e["vendor_message_id"] for e in by_connection[delivering]} & {
            e["vendor_message_id"] for e in by_connection[failing]
        }
        assert len(shared) >= 500  # the very collision receipts used to be confused by
        assert {e["status"] for e in by_connection[delivering]} == {"DELIVERED"}
        assert {e["status"] for e in by_connection[failing]} == {"UNDELIVERED"}
        assert (done["status"], done["delivered"], done["undelivered"]) == (
            "completed",
            len(by_connection[delivering]),
            len(by_connection[failing]),
        )
        assert await EarlyReport.count() == 0  # every receipt that overtook its result found it
    finally:
        await other.stop()


async def test_receipts_on_another_bind_of_the_same_account_find_their_messages(app, sms: SmsWorld):
    """Two connections to one SMSC account: the SMSC delivers each receipt on the other bind than the submit's."""
    now = datetime.now(UTC)
    await VendorConnection.insert(
        VendorConnection(
            channel="sms", name="Same account", settings=sms.smsc.connection_settings(), created_at=now, updated_at=now
        )
    )
    await _both_bound(app)
    sms.smsc.cross_receipts = True
    campaign = await _send(app, sms, FIRST)
    done = await wait_for_status(campaign, {"completed", "failed", "paused"})

    assert (done["status"], done["delivered"]) == ("completed", len(FIRST))
    assert len({e["connection"] for e in await _edrs(campaign)}) == 1  # both binds stamp the account's one id


async def test_multipart_messages_are_decided_by_the_parts_of_their_own_connection(app, sms: SmsWorld):
    other = await _second_smsc("undelivered")
    try:
        for smsc in (sms.smsc, other):
            smsc.id_prefix = ""
        await _both_bound(app)
        campaign = await _send(app, sms, FIRST[:20], text="Two parts " * 20)  # 200 GSM-7 characters
        done = await wait_for_status(campaign, {"completed", "failed", "paused"})
        edrs = await _edrs(campaign)
        assert {e["connection"] for e in edrs} == {await _connection_id("Stand-in"), await _connection_id("Other")}
        parts = await EdrPart.select(EdrPart.connection, EdrPart.vendor_message_id, EdrPart.state)
        assert len(parts) == 40 and len({(p["connection"], p["vendor_message_id"]) for p in parts}) == 40
        assert len({p["vendor_message_id"] for p in parts}) == 20  # each id twice, once per connection
        outcome = {await _connection_id("Stand-in"): "DELIVERED", await _connection_id("Other"): "UNDELIVERED"}
        assert all(e["status"] == outcome[e["connection"]] for e in edrs)
        assert all(p["state"] == outcome[p["connection"]] for p in parts)
        assert (done["status"], done["delivered"], done["undelivered"]) == ("completed", 10, 10)
    finally:
        await other.stop()


@pytest.mark.parametrize("receipts", ["after the results", "as fast as they come"])
async def test_an_smsc_that_restarts_and_reuses_ids_changes_only_the_newer_messages(app, sms: SmsWorld, receipts: str):
    """Fast receipts overtake the batch's stored answers: the SMS channel marks those of a batch it is still
    submitting as unrecorded, so they wait for their own message instead of lifting the older one."""
    smsc = sms.smsc
    smsc.id_prefix = ""
    smsc.outcomes = {"3460700": "undelivered"}  # FIRST undelivered, LATER delivered
    first = await _send(app, sms, FIRST)
    before = await wait_for_status(first, {"completed", "failed", "paused"})
    assert (before["status"], before["undelivered"]) == ("completed", 600)

    await smsc.stop()
    smsc.next_id = 1  # restarted without its state: it counts from 1 again
    await smsc.start("127.0.0.1", smsc.port)

    async def bound() -> bool:
        return smsc.bound_sessions == 1

    await eventually(bound)
    held = receipts == "after the results"
    smsc.hold_receipts = held
    smsc.receipt_delay = 0.05 if held else 0.0
    second = await _send(app, sms, LATER)
    if held:

        async def all_sent() -> bool:
            return [e["status"] for e in await _edrs(second)] == ["SENT"] * len(LATER)

        await eventually(all_sent)
        assert smsc.release_receipts() == len(LATER)
    after = await wait_for_status(second, {"completed", "failed", "paused"})

    first_ids = {e["vendor_message_id"] for e in await _edrs(first)}
    assert {e["vendor_message_id"] for e in await _edrs(second)} >= first_ids  # every id was handed out twice
    assert (after["status"], after["delivered"], after["undelivered"]) == ("completed", len(LATER), 0)
    assert {e["status"] for e in await _edrs(second)} == {"DELIVERED"}
    assert {e["status"] for e in await _edrs(first)} == {"UNDELIVERED"}
    unchanged = await Campaign.select().where(Campaign.id == first).first()
    assert (unchanged["delivered"], unchanged["undelivered"], unchanged["cost"]) == (0, 600, before["cost"])


async def test_an_early_report_is_applied_only_to_a_message_of_its_own_connection(app, sms: SmsWorld):
    portal = app.state.portal
    smsc = sms.smsc
    smsc.id_prefix, smsc.default_outcome = "", "never"  # the message will be 00000001; only our reports count
    connection = await _connection_id("Stand-in")
    foreign = DeliveryReport(vendor_message_id="00000001", state="delivered", connection=connection + 1)
    own = DeliveryReport(vendor_message_id="00000001", state="undelivered", error_code="001", connection=connection)
    await portal.record_deliveries("sms", [foreign, own])  # both before the message is even sent
    assert await EarlyReport.count() == 2

    campaign = await _send(app, sms, FIRST[:1])
    done = await wait_for_status(campaign, {"completed", "failed", "paused"})
    assert (done["status"], done["delivered"], done["undelivered"]) == ("completed", 0, 1)
    edr = (await _edrs(campaign))[0]
    assert (edr["connection"], edr["vendor_message_id"], edr["status"]) == (connection, "00000001", "UNDELIVERED")
    await retry_early_reports(portal)  # the sweeper finds no message of the foreign connection either
    left = await EarlyReport.select(EarlyReport.connection, EarlyReport.vendor_message_id)
    assert left == [{"connection": connection + 1, "vendor_message_id": "00000001"}]
    assert (await _edrs(campaign))[0]["status"] == "UNDELIVERED"


async def test_a_report_whose_message_commits_while_the_report_is_stored_is_applied_at_once(
    app, sms: SmsWorld, monkeypatch: pytest.MonkeyPatch
):
    """The webhook looks for the message, the submit result commits (and finds no early report yet), then the
    webhook stores the report as early: the webhook's look after its own commit applies it, without the sweeper."""
    portal = app.state.portal
    sms.smsc.id_prefix, sms.smsc.default_outcome = "", "never"
    campaign = await _send(app, sms, FIRST[:1])
    await eventually(lambda: _sent(campaign))
    edr = (await _edrs(campaign))[0]

    looked = receipts._targets
    calls = 0

    async def before_the_submit_commits(*args: object) -> dict:
        nonlocal calls
        calls += 1
        return {} if calls == 1 else await looked(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(receipts, "_targets", before_the_submit_commits)
    report = DeliveryReport(vendor_message_id=edr["vendor_message_id"], state="delivered", connection=edr["connection"])
    await portal.record_deliveries("sms", [report])

    assert calls == 2
    assert (await _edrs(campaign))[0]["status"] == "DELIVERED"
    assert await EarlyReport.count() == 0


async def _sent(campaign_id: int) -> bool:
    return [e["status"] for e in await _edrs(campaign_id)] == ["SENT"]
