"""WhatsApp campaigns through the real engine and the stand-in Cloud API, Meta's webhooks over real HTTP to
/hooks/whatsapp/<connection>: statuses in any order and twice, signatures, the handshake, inbound messages,
one connection per webhook."""

from __future__ import annotations

import httpx
import msgspec
from prometheus_client import REGISTRY

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.dispatch.tables import EarlyReport, InboundRecord, VendorConnection
from plugins.whatsapp.provider import SIGNATURE_HEADER, sign
from tests.core.dispatch.conftest import wait_for_status
from tests.plugins.viber.conftest import edrs_of
from tests.plugins.whatsapp.conftest import WHATSAPP_RATE, WhatsAppWorld, add_connection
from tests.waiting import eventually

DELIVERED, READ, FAILED, READ_ONLY, LATE = "34607000001", "34607000002", "34607000003", "34607000004", "34607000005"
TEXT = "Hi Ana, your order A-17 is on its way"


async def _campaign(app, wa: WhatsAppWorld, numbers: list[str], text: str = TEXT) -> int:
    data = CampaignCreate(
        channel="whatsapp", sender_id=wa.sender_id, text=text, numbers=numbers, vendor_template_id=wa.template_id
    )
    return (await create_campaign(app.state.portal, wa.actor, data)).id


def _refused() -> float:
    return REGISTRY.get_sample_value("portal_webhooks_refused_total", {"channel": "whatsapp"}) or 0.0


def _status(wamid: str, word: str, code: int = 0) -> dict:
    status: dict = {"id": wamid, "status": word, "timestamp": "1700000000", "recipient_id": "x"}
    if code:
        status["errors"] = [{"code": code, "title": "…"}]
    return {"statuses": [status]}


async def _all_sent(campaign: int) -> bool:
    edrs = await edrs_of(campaign)
    return bool(edrs) and all(e["status"] == "SENT" for e in edrs.values())


async def test_a_whatsapp_campaign_ends_delivered_seen_and_undelivered_as_meta_reports(app, whatsapp):
    whatsapp.meta.outcomes = {
        READ: "read",
        FAILED: "failed",
        READ_ONLY: "read_only",
        LATE: "failed_then_delivered",
    }
    whatsapp.meta.duplicate = True  # every webhook twice, as Meta may send them
    campaign = await _campaign(app, whatsapp, [DELIVERED, READ, FAILED, READ_ONLY, LATE])
    await wait_for_status(campaign, {"completed", "failed", "paused"})

    async def settled() -> bool:
        edrs = await edrs_of(campaign)
        return (edrs[READ]["status"], edrs[LATE]["status"]) == ("SEEN", "DELIVERED")

    await eventually(settled)
    edrs = await edrs_of(campaign)
    assert {n: e["status"] for n, e in edrs.items()} == {
        DELIVERED: "DELIVERED",
        READ: "SEEN",
        FAILED: "UNDELIVERED",
        READ_ONLY: "SEEN",  # read without delivered
        LATE: "DELIVERED",  # delivered after failed (a second device)
    }
    assert edrs[FAILED]["error"] == "undelivered (error 131026)" and edrs[READ]["vendor_status"] == "read"
    assert {e["connection"] for e in edrs.values()} == {whatsapp.connection_id}
    done = await wait_for_status(campaign, {"completed"})
    assert (done["delivered"], done["undelivered"], done["cost"]) == (4, 1, 4 * WHATSAPP_RATE)
    sent = {r.to: r for r in whatsapp.meta.last_requests}
    assert sent[READ].template.name == "order_update"
    assert [p.text for p in sent[READ].template.components[0].parameters] == ["Ana", "A-17"]
    assert sent[READ].biz_opaque_callback_data == f"edr:{edrs[READ]['id']}"


async def test_out_of_order_and_duplicate_webhooks_keep_the_most_final_status(app, whatsapp):
    whatsapp.meta.outcomes = {READ: "never", FAILED: "never"}  # "sent" only: the test plays the rest
    campaign = await _campaign(app, whatsapp, [READ, FAILED])
    await eventually(lambda: _all_sent(campaign))
    ids = {n: e["vendor_message_id"] for n, e in (await edrs_of(campaign)).items()}
    meta = whatsapp.meta
    # Read first, then a late delivered and sent, twice each, then failed: SEEN stays.
    for word in ("read", "read", "delivered", "sent", "failed"):
        assert await meta.post_signed(meta.envelope("messages", _status(ids[READ], word, 131026))) == 200
    # Failed, then delivered lifts it (another device); failed again and sent never undo it.
    for word in ("failed", "delivered", "failed", "sent"):
        assert await meta.post_signed(meta.envelope("messages", _status(ids[FAILED], word, 131026))) == 200
    edrs = await edrs_of(campaign)
    assert (edrs[READ]["status"], edrs[FAILED]["status"]) == ("SEEN", "DELIVERED")
    done = await wait_for_status(campaign, {"completed"})
    assert (done["delivered"], done["undelivered"], done["cost"]) == (2, 0, 2 * WHATSAPP_RATE)


async def test_unsigned_or_wrongly_signed_webhooks_are_refused_counted_and_change_nothing(app, whatsapp):
    whatsapp.meta.outcomes = {DELIVERED: "never"}
    campaign = await _campaign(app, whatsapp, [DELIVERED])
    await eventually(lambda: _all_sent(campaign))
    [edr] = (await edrs_of(campaign)).values()
    body = msgspec.json.encode(whatsapp.meta.envelope("messages", _status(edr["vendor_message_id"], "failed")))
    before = _refused()
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(whatsapp.hook, content=body)
        forged = await client.post(whatsapp.hook, content=body, headers={SIGNATURE_HEADER: sign("guessed", body)})
        bare = await client.post(
            whatsapp.hook, content=body, headers={SIGNATURE_HEADER: sign("whatsapp-demo-secret", body)[7:]}
        )
    assert (unsigned.status_code, forged.status_code, bare.status_code) == (401, 401, 401)
    assert unsigned.json()["detail"] == "The webhook's signature is missing or wrong"
    assert _refused() == before + 3
    assert (await edrs_of(campaign))[DELIVERED]["status"] == "SENT"


async def test_the_hub_challenge_handshake_answers_only_the_connections_verify_token(app, whatsapp):
    before = _refused()
    query = {"hub.mode": "subscribe", "hub.verify_token": "whatsapp-demo-verify", "hub.challenge": "1158201444"}
    async with httpx.AsyncClient() as client:
        ok = await client.get(whatsapp.hook, params=query)
        wrong = await client.get(whatsapp.hook, params=query | {"hub.verify_token": "guess"})
        elsewhere = await client.get(f"{whatsapp.base_url}/hooks/whatsapp/999999", params=query)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert (wrong.status_code, elsewhere.status_code) == (403, 404)
    assert _refused() == before + 1


async def test_a_webhook_on_one_connection_cannot_touch_the_messages_of_another(app, whatsapp):
    other = await add_connection("Other WhatsApp", {"app_secret": "other-secret", "api_url": "http://127.0.0.1:9"})
    await VendorConnection.update({VendorConnection.enabled: False}).where(VendorConnection.id == other)
    whatsapp.meta.outcomes = {DELIVERED: "never"}
    campaign = await _campaign(app, whatsapp, [DELIVERED])
    await eventually(lambda: _all_sent(campaign))
    [edr] = (await edrs_of(campaign)).values()
    body = msgspec.json.encode(whatsapp.meta.envelope("messages", _status(edr["vendor_message_id"], "failed")))
    async with httpx.AsyncClient() as client:
        # Correctly signed for the other connection, naming this connection's message id.
        answer = await client.post(
            f"{whatsapp.base_url}/hooks/whatsapp/{other}",
            content=body,
            headers={SIGNATURE_HEADER: sign("other-secret", body)},
        )
        # This connection's secret on the other connection's address: refused.
        crossed = await client.post(
            f"{whatsapp.base_url}/hooks/whatsapp/{other}",
            content=body,
            headers={SIGNATURE_HEADER: sign("whatsapp-demo-secret", body)},
        )
    assert answer.status_code == 200 and crossed.status_code == 401
    assert (await edrs_of(campaign))[DELIVERED]["status"] == "SENT"
    assert await EarlyReport.count().where(EarlyReport.connection == other) == 1  # kept for its own connection only


async def test_a_customers_message_and_quick_reply_tap_are_stored_as_inbound_messages(app, whatsapp):
    await whatsapp.meta.inject_mo("+34607000009", "34910000000", "When do you open?")
    await whatsapp.meta.tap_button("+34607000009", "34910000000", "Stop promotions", payload="STOP", context="wamid.1")
    rows = await InboundRecord.select().order_by(InboundRecord.id)
    assert [(r["channel"], r["source"], r["destination"], r["text"]) for r in rows] == [
        ("whatsapp", "34607000009", "34910000000", "When do you open?"),
        ("whatsapp", "34607000009", "34910000000", "Stop promotions"),
    ]
    assert all(r["vendor_message_id"].startswith("wamid.mo") for r in rows)
    assert rows[0]["partner"] == whatsapp.tenant.end_user_id
