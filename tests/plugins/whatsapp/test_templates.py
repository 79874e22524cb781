"""WhatsApp templates through /api/vendor-templates and the stand-in: submitted pending, approved or rejected by
Meta's signed webhook, used by campaigns only once approved, and each company's own."""

from __future__ import annotations

import pytest

from core import VendorConnection
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.errors import InvalidInput
from core.message_templates.tables import VendorTemplate
from plugins.whatsapp.provider import WhatsAppChannel
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import wait_for_status
from tests.factories import sign_in
from tests.isolation import foreign_id_responses
from tests.plugins.whatsapp.conftest import WhatsAppWorld, add_connection, add_template
from tests.waiting import eventually

BODY = "Hello {{1}}, your code is {{2}}"


def _api(client_for, wa: WhatsAppWorld):
    return client_for(wa.tenant.host), {"Authorization": f"Bearer {wa.tenant.api_key}"}


async def _status(template_id: int) -> str:
    row = await VendorTemplate.select(VendorTemplate.status).where(VendorTemplate.id == template_id).first()
    return row["status"]


async def test_a_submitted_template_is_pending_then_approved_and_a_campaign_can_send_it(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    body = {"name": "login_code", "language": "en_US", "category": "utility", "body": BODY}
    created = await client.post("/api/vendor-templates", json=body, headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert (template["status"] in ("pending", "approved"), template["params"], template["channel"]) == (
        True,
        2,
        "whatsapp",
    )
    [submitted] = whatsapp.meta.templates.values()
    assert (submitted.name, submitted.language, submitted.category) == ("login_code", "en_US", "UTILITY")
    assert submitted.components == [{"type": "BODY", "text": BODY}]
    await eventually(lambda: _approved(template["id"]))
    one = (await client.get(f"/api/vendor-templates/{template['id']}", headers=headers)).json()
    assert (one["status"], one["reason"]) == ("approved", "")
    listed = (await client.get("/api/vendor-templates?status=approved", headers=headers)).json()
    assert [t["name"] for t in listed] == ["login_code", "order_update"]
    data = CampaignCreate(
        channel="whatsapp",
        sender_id=whatsapp.sender_id,
        text="Hello Ana, your code is 482913",
        numbers=["34607000001"],
        vendor_template_id=template["id"],
    )
    campaign = await create_campaign(app.state.portal, whatsapp.actor, data)
    assert (await wait_for_status(campaign.id, {"completed"}))["delivered"] == 1
    [sent] = whatsapp.meta.last_requests
    assert (sent.template.name, sent.template.language.code) == ("login_code", "en_US")
    assert [p.text for p in sent.template.components[0].parameters] == ["Ana", "482913"]


async def _approved(template_id: int) -> bool:
    return await _status(template_id) == "approved"


async def test_a_template_meta_rejects_is_rejected_with_its_reason_and_cannot_be_sent(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    body = {"name": "promo_reject_me", "language": "es", "category": "marketing", "body": "Sale {{1}}"}
    template = (await client.post("/api/vendor-templates", json=body, headers=headers)).json()

    async def rejected() -> bool:
        return await _status(template["id"]) == "rejected"

    await eventually(rejected)
    one = (await client.get(f"/api/vendor-templates/{template['id']}", headers=headers)).json()
    assert one["reason"] == "INVALID_FORMAT"
    # Asking Meta gives the same verdict.
    row = await VendorTemplate.select().where(VendorTemplate.id == template["id"]).first()
    connection = VendorConnection(
        id=whatsapp.connection_id, channel="whatsapp", name="wa", settings=whatsapp.meta.connection_settings()
    )
    review = await WhatsAppChannel().review(connection, row["vendor_template_id"])
    assert (review.status, review.reason) == ("rejected", "INVALID_FORMAT")
    data = CampaignCreate(channel="whatsapp", sender_id=whatsapp.sender_id, text="Sale -20%", numbers=["34607000001"])
    for choice in (None, template["id"]):
        with pytest.raises(InvalidInput, match="approved WhatsApp templates"):
            await create_campaign(
                app.state.portal, whatsapp.actor, CampaignCreate(**{**_fields(data), "vendor_template_id": choice})
            )


def _fields(data: CampaignCreate) -> dict:
    return {f: getattr(data, f) for f in data.__struct_fields__}


async def test_bad_templates_and_texts_that_do_not_fit_are_refused(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    good = {"name": "shipping", "language": "es", "category": "utility", "body": "Order {{1}} ships {{2}}"}
    for change, field in (
        ({"name": "Shipping Notice"}, "name"),
        ({"body": "Order {{1}} ships {{3}}"}, "body"),
        ({"category": "spam"}, "category"),
        ({"channel": "sms"}, "channel"),
    ):
        answer = await client.post("/api/vendor-templates", json=good | change, headers=headers)
        assert answer.status_code in (400, 422), (change, answer.text)  # the schema's, or the service's
        assert field in answer.text
    assert (await client.post("/api/vendor-templates", json=good, headers=headers)).status_code == 201
    again = await client.post("/api/vendor-templates", json=good, headers=headers)
    assert again.status_code == 409
    for text in ("Order  ships today", "Your order A-1 ships today", "Hi Ana, your order A-1 is on its way!"):
        data = CampaignCreate(
            channel="whatsapp",
            sender_id=whatsapp.sender_id,
            text=text,
            numbers=["34607000001"],
            vendor_template_id=whatsapp.template_id,
        )
        with pytest.raises(InvalidInput, match="Fill in every parameter"):
            await create_campaign(app.state.portal, whatsapp.actor, data)


async def test_templates_are_each_companys_own_and_reviews_touch_only_their_connections(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    world = whatsapp.world
    theirs = await add_template(world.b.end_user_id, whatsapp.connection_id, name="their_news", status="pending")
    world.b.vendor_template_id = theirs  # type: ignore[attr-defined]
    await sign_in(client, whatsapp.tenant.end_user_admin)  # the page routes too
    assert await foreign_id_responses(app, client, world.b, headers, only={"vendor_template_id"}) == {}
    listed = (await client.get("/api/vendor-templates", headers=headers)).json()
    assert [t["name"] for t in listed] == ["order_update"]
    b = await actor_of(world.b)
    data = CampaignCreate(
        channel="whatsapp",
        sender_id=world.b.sender_id,
        text="Hi Ana, your order A-1 is on its way",
        numbers=["34607000001"],
        vendor_template_id=whatsapp.template_id,
    )
    with pytest.raises(InvalidInput):
        await create_campaign(app.state.portal, b, data)
    # A verdict signed for another connection, naming this connection's template: nothing changes.
    other = await add_connection("Other", {"app_secret": "other-secret"})
    meta = whatsapp.meta
    meta.webhook_url, meta.app_secret = f"{whatsapp.base_url}/hooks/whatsapp/{other}", "other-secret"
    value = {"event": "APPROVED", "message_template_id": "t-their_news", "message_template_name": "their_news"}
    assert (
        await meta.post_signed(
            meta.envelope("message_template_status_update", value | {"message_template_language": "es"})
        )
        == 200
    )
    assert await _status(theirs) == "pending"
