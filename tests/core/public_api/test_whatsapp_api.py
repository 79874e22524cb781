"""/api/send_sms on WhatsApp: ``templateName`` and ``templateParams`` send an approved template through the stand-in
Cloud API (and, first in a cascade, SMS gets its filled-in text); an unknown, unapproved or ill-fitting template is a
400 naming the parameter."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core.dispatch.tables import Edr, VendorConnection
from core.public_api.cascade import hand_over
from core.public_api.tables import ApiRequest
from core.senders.tables import Sender
from plugins.sms.simulator import StandInSmsc
from tests.core.dispatch.conftest import add_plan
from tests.core.public_api.conftest import api_edrs, balance, bearer, wait_for_edrs
from tests.plugins.whatsapp.conftest import (  # noqa: F401 — fixtures
    WHATSAPP_RATE,
    WhatsAppWorld,
    add_template,
    meta,
    served,
    whatsapp,
)
from tests.waiting import eventually

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SENDER = "34910000000"  # the tenant's WhatsApp sender ID


def _body(**extra: object) -> dict[str, object]:
    return {
        "channels": ["whatsapp"],
        "from": SENDER,
        "to": "34607000001",
        "templateName": "order_update",
        "templateParams": ["Ana", "A-17"],
        **extra,
    }


async def _post(client_for, wa: WhatsAppWorld, body: object):
    return await client_for(wa.tenant.host).post("/api/send_sms", json=body, headers=bearer(wa.tenant.api_key))


def _sent(wa: WhatsAppWorld) -> dict[str, tuple[str, str, list[str]]]:
    """What the stand-in Cloud API took, by destination: template name, language and body parameters."""
    found = {}
    for request in wa.meta.last_requests:
        body = [p.text for c in request.template.components if c.type == "body" for p in c.parameters]
        found[request.to] = (request.template.name, request.template.language.code, body)
    return found


async def test_a_template_with_its_params_is_sent_delivered_and_paid(client_for, whatsapp):  # noqa: F811
    before = await balance(whatsapp.tenant.end_user_id)
    reply = await _post(client_for, whatsapp, _body(to="34607000001,34607000002", clientRef="o-17"))
    assert reply.status_code == 200, reply.text
    results = dict(r.split(":", 1) for r in reply.json()["results"])
    assert set(results) == {"34607000001", "34607000002"} and all(UUID.match(t) for t in results.values())
    rows = await wait_for_edrs({"DELIVERED"}, 2)
    assert {(r["channel"], r["text"], r["price"], r["client_ref"]) for r in rows} == {
        ("whatsapp", "Hi Ana, your order A-17 is on its way", WHATSAPP_RATE, "o-17")
    }
    assert {r["transaction_id"] for r in rows} == set(results.values())
    assert _sent(whatsapp) == {
        "34607000001": ("order_update", "es", ["Ana", "A-17"]),
        "34607000002": ("order_update", "es", ["Ana", "A-17"]),
    }
    assert whatsapp.meta.submitted == {"34607000001": 1, "34607000002": 1}
    assert await balance(whatsapp.tenant.end_user_id) == before - 2 * WHATSAPP_RATE
    request = await ApiRequest.select(ApiRequest.content).first()
    assert request["content"] is not None


async def test_the_filled_in_text_as_message_and_get_with_repeated_params(client_for, whatsapp):  # noqa: F811
    # message = the body filled in, without templateParams: the campaigns' form of it.
    as_text = _body(to="34607000003", message="Hi Bo, your order B-2 is on its way")
    del as_text["templateParams"]
    reply = await _post(client_for, whatsapp, [as_text, _body(to="34607000004", label="orders")])
    assert reply.status_code == 200, reply.text
    query = (
        f"/api/send_sms?channels=whatsapp&from={SENDER}&to=34607000005&templateName=order_update"
        "&templateParams=Cy&templateParams=C-3,5"
    )
    got = await client_for(whatsapp.tenant.host).get(query, headers=bearer(whatsapp.tenant.api_key))
    assert got.status_code == 200, got.text
    await wait_for_edrs({"DELIVERED"}, 3)
    assert _sent(whatsapp) == {
        "34607000003": ("order_update", "es", ["Bo", "B-2"]),
        "34607000004": ("order_update", "es", ["Ana", "A-17"]),
        "34607000005": ("order_update", "es", ["Cy", "C-3,5"]),
    }


async def test_unknown_unapproved_or_ill_fitting_templates_are_400_naming_the_parameter(client_for, whatsapp):  # noqa: F811
    await add_template(whatsapp.tenant.end_user_id, whatsapp.connection_id, name="still_pending", status="pending")
    await add_template(whatsapp.world.b.end_user_id, whatsapp.connection_id, name="their_template")
    for body, field, words in [
        (_body(templateName=""), "templateName", "templateName is required on WhatsApp"),
        (_body(templateName="nope"), "templateName", "no WhatsApp template 'nope'"),
        (_body(templateName="their_template"), "templateName", "no WhatsApp template"),  # another company's
        (_body(templateName="still_pending"), "templateName", "is pending, not approved"),
        (_body(templateLanguage="en_US"), "templateName", "'order_update' (en_US)"),
        (_body(templateParams=["Ana"]), "templateParams", "takes 2 parameters, not 1"),
        (_body(templateParams="Ana,A-17,x"), "templateParams", "takes 2 parameters, not 3"),
        (_body(templateParams=["Ana", " "]), "templateParams", "Fill in every parameter"),
        (_body(templateParams=None), "templateParams", "templateParams is required"),
        (_body(templateParams=None, message="Hello"), "message", "Fill in every parameter"),
        (_body(message="Hello"), "message", "message differs from the template"),
        (_body(templateHeaderParam="x"), "templateHeaderParam", "header takes no value"),
        (_body(channels=["sms", "whatsapp"]), "channels", "only be the first channel"),
    ]:
        reply = await _post(client_for, whatsapp, body)
        assert reply.status_code == 400, (body, reply.text)
        assert reply.json()["field"] == field and words in reply.json()["detail"], (body, reply.json())
    assert await api_edrs() == [] and whatsapp.meta.submitted == {}


async def test_whatsapp_then_sms_sends_the_filled_in_text_to_whom_whatsapp_missed(app, client_for, whatsapp):  # noqa: F811
    smsc = StandInSmsc(receipt_delay=0.05)
    await smsc.start("127.0.0.1", 0)
    try:
        now = datetime.now(UTC)
        settings = smsc.connection_settings()
        await VendorConnection.insert(
            VendorConnection(
                channel="sms", name="SMSC", settings=settings, enabled=True, created_at=now, updated_at=now
            )
        )
        await Sender.insert(
            Sender(partner=whatsapp.tenant.end_user_id, channel="sms", name=SENDER, status="enabled", created_at=now)
        )
        await add_plan(whatsapp.tenant.end_user_id)
        whatsapp.meta.outcomes = {"34607000002": "failed"}
        reply = await _post(client_for, whatsapp, _body(channels="whatsapp,sms", to="34607000001,34607000002"))
        assert reply.status_code == 200, reply.text
        results = dict(r.split(":", 1) for r in reply.json()["results"])

        async def settled() -> list[dict] | None:
            await hand_over(app.state.portal)
            rows = await Edr.select().where(Edr.campaign.is_null()).order_by(Edr.id)
            seen = sorted((r["destination"], r["channel"], r["status"]) for r in rows)
            expected = [
                ("34607000001", "whatsapp", "DELIVERED"),
                ("34607000002", "sms", "DELIVERED"),
                ("34607000002", "whatsapp", "UNDELIVERED"),
            ]
            return rows if seen == expected else None

        rows = await eventually(settled, within=40, every=0.1)
        by_channel = {(r["destination"], r["channel"]): r for r in rows}
        sms = by_channel["34607000002", "sms"]
        assert sms["text"] == "Hi Ana, your order A-17 is on its way" and sms["sender"] == SENDER
        assert (
            sms["transaction_id"] == by_channel["34607000002", "whatsapp"]["transaction_id"] == results["34607000002"]
        )
        assert smsc.submitted == {"34607000002": 1}
        assert whatsapp.meta.submitted == {"34607000001": 1, "34607000002": 1}
    finally:
        await smsc.stop()
