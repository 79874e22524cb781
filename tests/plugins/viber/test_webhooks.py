"""Viber campaigns through the real engine and the stand-in aggregator, its callbacks over real HTTP to
/hooks/viber/<connection>: statuses in any order, signatures, inbound messages, one connection per callback."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from prometheus_client import REGISTRY

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.dispatch.tables import EarlyReport, InboundRecord, VendorConnection
from plugins.viber.provider import SIGNATURE_HEADER, sign
from tests.core.dispatch.conftest import wait_for_status
from tests.plugins.viber.conftest import VIBER_RATE, ViberWorld, add_connection, edrs_of
from tests.waiting import eventually

DELIVERED, SEEN, UNDELIVERED, EXPIRED = "34607000001", "34607000002", "34607000003", "34607000004"


async def _campaign(app, viber: ViberWorld, numbers: list[str], text: str = "Spring sale -20%") -> int:
    data = CampaignCreate(channel="viber", sender_id=viber.sender_id, text=text, numbers=numbers)
    return (await create_campaign(app.state.portal, viber.actor, data)).id


def _refused() -> float:
    return REGISTRY.get_sample_value("portal_webhooks_refused_total", {"channel": "viber"}) or 0.0


async def test_a_viber_campaign_ends_delivered_seen_undelivered_and_expired_as_the_handsets_answer(app, viber):
    viber.aggregator.outcomes = {SEEN: "seen", UNDELIVERED: "undelivered", EXPIRED: "expired@0.2"}
    campaign = await _campaign(app, viber, [DELIVERED, SEEN, UNDELIVERED, EXPIRED])
    done = await wait_for_status(campaign, {"completed", "failed", "paused"})

    async def seen() -> bool:  # the campaign completes on delivered; seen comes after it
        return (await edrs_of(campaign))[SEEN]["status"] == "SEEN"

    await eventually(seen)
    edrs = await edrs_of(campaign)
    assert {n: e["status"] for n, e in edrs.items()} == {
        DELIVERED: "DELIVERED",
        SEEN: "SEEN",
        UNDELIVERED: "UNDELIVERED",
        EXPIRED: "UNDELIVERED",
    }
    assert edrs[EXPIRED]["error"] == "expired (error 1)" and edrs[SEEN]["vendor_status"] == "seen"
    assert {e["connection"] for e in edrs.values()} == {viber.connection_id}
    # By Delivered: the two that reached a phone are paid, the others released.
    assert (done["status"], done["delivered"], done["undelivered"], done["cost"]) == ("completed", 2, 2, 2 * VIBER_RATE)
    sent = {r.destination_addr: r for r in viber.aggregator.last_requests}
    assert set(sent) == {DELIVERED, SEEN, UNDELIVERED, EXPIRED}
    assert (sent[SEEN].source_addr, sent[SEEN].text, sent[SEEN].message_type) == ("ShopViber", "Spring sale -20%", 106)
    assert sent[SEEN].callback_url == f"{viber.base_url}/hooks/viber/{viber.connection_id}"


async def test_duplicate_and_out_of_order_callbacks_keep_the_most_final_status(app, viber):
    viber.aggregator.hold_callbacks = True
    campaign = await _campaign(app, viber, [SEEN, UNDELIVERED])
    await eventually(lambda: _all_sent(campaign))
    ids = {n: e["vendor_message_id"] for n, e in (await edrs_of(campaign)).items()}
    url = f"{viber.base_url}/hooks/viber/{viber.connection_id}"
    post = viber.aggregator.post_signed
    # Seen before delivered, twice, then a late negative report: SEEN stays.
    for status in ("seen", "seen", "delivered", "undelivered", "expired"):
        assert await post(url, {"message_id": ids[SEEN], "status": status}) == 200
    # Undelivered, then a late positive report lifts it (the phone came back online); a negative one never undoes it.
    for status in ("undelivered", "delivered", "undelivered", 5):
        assert await post(url, {"message_id": ids[UNDELIVERED], "status": status}) == 200
    edrs = await edrs_of(campaign)
    assert (edrs[SEEN]["status"], edrs[UNDELIVERED]["status"]) == ("SEEN", "DELIVERED")
    assert viber.aggregator.release_callbacks() == 2  # the stand-in's own "delivered" for each: changes nothing
    done = await wait_for_status(campaign, {"completed"})
    assert (done["delivered"], done["undelivered"], done["cost"]) == (2, 0, 2 * VIBER_RATE)


async def _all_sent(campaign: int) -> bool:
    edrs = await edrs_of(campaign)
    return bool(edrs) and all(e["status"] == "SENT" for e in edrs.values())


async def test_unsigned_or_wrongly_signed_callbacks_are_refused_counted_and_change_nothing(app, viber):
    viber.aggregator.hold_callbacks = True
    campaign = await _campaign(app, viber, [DELIVERED])
    await eventually(lambda: _all_sent(campaign))
    [edr] = (await edrs_of(campaign)).values()
    url = f"{viber.base_url}/hooks/viber/{viber.connection_id}"
    body = b'{"message_id": "%s", "status": "undelivered"}' % edr["vendor_message_id"].encode()
    before = _refused()
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(url, content=body)
        forged = await client.post(url, content=body, headers={SIGNATURE_HEADER: sign("guessed", body)})
        garbage = await client.post(url, content=b"{", headers={SIGNATURE_HEADER: sign("viber-demo-secret", b"{")})
    assert (unsigned.status_code, forged.status_code) == (401, 401)
    assert unsigned.json()["detail"] == "The callback's signature is missing or wrong"
    assert garbage.status_code == 400 and "not JSON" in garbage.json()["detail"]
    assert _refused() == before + 2
    assert (await edrs_of(campaign))[DELIVERED]["status"] == "SENT"
    viber.aggregator.release_callbacks()
    await wait_for_status(campaign, {"completed"})
    assert (await edrs_of(campaign))[DELIVERED]["status"] == "DELIVERED"


async def test_a_callback_on_one_connection_cannot_touch_the_messages_of_another(app, viber):
    other = await add_connection("Other Viber", {"webhook_secret": "other-secret", "api_url": "http://127.0.0.1:9"})
    await VendorConnection.update({VendorConnection.enabled: False}).where(VendorConnection.id == other)
    viber.aggregator.hold_callbacks = True
    campaign = await _campaign(app, viber, [DELIVERED])
    await eventually(lambda: _all_sent(campaign))
    [edr] = (await edrs_of(campaign)).values()
    body = b'{"message_id": "%s", "status": "undelivered"}' % edr["vendor_message_id"].encode()
    async with httpx.AsyncClient() as client:
        # Correctly signed for the other connection, naming this connection's message id.
        answer = await client.post(
            f"{viber.base_url}/hooks/viber/{other}",
            content=body,
            headers={SIGNATURE_HEADER: sign("other-secret", body)},
        )
        # This connection's secret on the other connection's address: refused.
        crossed = await client.post(
            f"{viber.base_url}/hooks/viber/{other}",
            content=body,
            headers={SIGNATURE_HEADER: sign("viber-demo-secret", body)},
        )
    assert answer.status_code == 200 and crossed.status_code == 401
    assert (await edrs_of(campaign))[DELIVERED]["status"] == "SENT"
    assert await EarlyReport.count().where(EarlyReport.connection == other) == 1  # kept for its own connection only
    viber.aggregator.release_callbacks()
    await wait_for_status(campaign, {"completed"})
    assert (await edrs_of(campaign))[DELIVERED]["status"] == "DELIVERED"


async def test_webhooks_need_no_portal_host_and_unknown_connections_are_404(app, viber):
    now = datetime.now(UTC)
    sms = await VendorConnection.insert(
        VendorConnection(channel="sms", name="SMSC", settings={}, enabled=False, created_at=now, updated_at=now)
    ).returning(VendorConnection.id)
    async with httpx.AsyncClient(base_url=viber.base_url) as client:
        # A host name no portal has: a portal page there is 404, the webhook is not.
        page = await client.get("/login", headers={"host": "vendor-hooks.example"})
        hook = await client.post(
            f"/hooks/viber/{viber.connection_id}", content=b"{}", headers={"host": "vendor-hooks.example"}
        )
        missing = await client.post("/hooks/viber/999999", content=b"{}")
        out_of_range = await client.post("/hooks/viber/99999999999", content=b"{}")
        no_channel = await client.post(f"/hooks/carrier-pigeon/{viber.connection_id}", content=b"{}")
        other_channel = await client.post(f"/hooks/viber/{sms[0]['id']}", content=b"{}")
        not_webhook = await client.post(f"/hooks/sms/{sms[0]['id']}", content=b"{}")
        handshake = await client.get(f"/hooks/viber/{viber.connection_id}")
    assert page.status_code == 404
    assert hook.status_code == 401  # reached the channel, which wants a signature; no CSRF or session asked
    assert [r.status_code for r in (missing, out_of_range, no_channel, other_channel, not_webhook, handshake)] == [
        404
    ] * 6
    assert missing.json()["detail"] == "Vendor connection not found"


async def test_a_subscribers_reply_is_stored_as_an_inbound_message(app, viber):
    viber.aggregator.webhook_url = f"{viber.base_url}/hooks/viber/{viber.connection_id}"
    await viber.aggregator.inject_mo("+34607000009", "ShopViber", "STOP please")
    [row] = await InboundRecord.select()
    assert (row["channel"], row["source"], row["destination"], row["text"]) == (
        "viber",
        "34607000009",
        "ShopViber",
        "STOP please",
    )
    assert row["vendor_message_id"].startswith("mo-")
