"""WhatsApp templates with a header, footer and buttons through /api/vendor-templates: Meta's components reach the
stand-in, which checks them as Meta does and approves; every bad part is refused naming its field."""

from __future__ import annotations

import msgspec
import pytest

from core import VendorConnection
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.errors import InvalidInput, ProviderError
from core.message_templates.tables import VendorTemplate
from core.providers import TemplateSubmission
from plugins.whatsapp.provider import WhatsAppChannel
from plugins.whatsapp.schemas import MediaLink
from tests.core.dispatch.conftest import wait_for_status
from tests.plugins.whatsapp.conftest import WhatsAppWorld
from tests.waiting import eventually

BUTTONS = [
    {"kind": "quick_reply", "text": "Stop promotions", "url": "", "phone_number": ""},
    {"kind": "url", "text": "Track it", "url": "https://shop.example/track/{{1}}", "phone_number": ""},
    {"kind": "phone_number", "text": "Call us", "url": "", "phone_number": "+34600000000"},
]
GOOD = {
    "name": "order_shipped",
    "language": "es",
    "category": "utility",
    "header": {"kind": "text", "text": "Order {{1}}", "url": ""},
    "body": "Hello {{1}}, your order ships today",
    "footer": "Reply STOP to opt out",
    "buttons": BUTTONS,
}


def _api(client_for, wa: WhatsAppWorld):
    return client_for(wa.tenant.host), {"Authorization": f"Bearer {wa.tenant.api_key}"}


async def test_a_utility_template_with_every_part_reaches_meta_as_components_and_is_approved(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    created = await client.post("/api/vendor-templates", json=GOOD, headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert (template["header"], template["footer"], template["buttons"]) == (GOOD["header"], GOOD["footer"], BUTTONS)
    [submitted] = whatsapp.meta.templates.values()
    assert submitted.components == [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["1"]}},
        {"type": "BODY", "text": GOOD["body"]},
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop promotions"},
                {
                    "type": "URL",
                    "text": "Track it",
                    "url": "https://shop.example/track/{{1}}",
                    "example": ["https://shop.example/track/1"],
                },
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+34600000000"},
            ],
        },
    ]

    async def approved() -> bool:
        row = await VendorTemplate.select(VendorTemplate.status).where(VendorTemplate.id == template["id"]).first()
        return row["status"] == "approved"

    await eventually(approved)
    one = (await client.get(f"/api/vendor-templates/{template['id']}", headers=headers)).json()
    assert (one["status"], one["header"], one["buttons"]) == ("approved", GOOD["header"], BUTTONS)


@pytest.mark.parametrize(
    ("header", "component"),
    [
        (
            {"kind": "image", "text": "", "url": "https://cdn.example/sale.png"},
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://cdn.example/sale.png"]}},
        ),
        ({"kind": "location", "text": "", "url": ""}, {"type": "HEADER", "format": "LOCATION"}),
    ],
)
async def test_a_marketing_template_with_a_media_or_location_header(client_for, whatsapp, header, component):
    client, headers = _api(client_for, whatsapp)
    body = {"name": "spring_sale", "language": "en_US", "category": "marketing", "body": "Sale {{1}}", "header": header}
    created = await client.post("/api/vendor-templates", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["header"], created.json()["buttons"], created.json()["footer"]) == (header, [], "")
    [submitted] = whatsapp.meta.templates.values()
    assert submitted.components == [component, {"type": "BODY", "text": "Sale {{1}}"}]


async def test_a_campaign_sends_the_media_header_link_with_each_message(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    header = {"kind": "document", "text": "", "url": "https://cdn.example/invoice.pdf"}
    body = {"name": "invoice", "language": "es", "category": "utility", "body": "Invoice {{1}}", "header": header}
    template = (await client.post("/api/vendor-templates", json=body, headers=headers)).json()

    async def approved() -> bool:
        row = await VendorTemplate.select(VendorTemplate.status).where(VendorTemplate.id == template["id"]).first()
        return row["status"] == "approved"

    await eventually(approved)
    data = CampaignCreate(
        channel="whatsapp",
        sender_id=whatsapp.sender_id,
        text="Invoice F-7",
        numbers=["34607000001", "34607000002"],
        vendor_template_id=template["id"],
    )
    campaign = await create_campaign(app.state.portal, whatsapp.actor, data)
    assert (await wait_for_status(campaign.id, {"completed"}))["delivered"] == 2
    sent = sorted(whatsapp.meta.last_requests, key=lambda m: m.to)
    assert [(m.template.name, m.to) for m in sent] == [("invoice", "34607000001"), ("invoice", "34607000002")]
    for message in sent:
        head, text = message.template.components
        assert (head.type, head.parameters[0].type, head.parameters[0].document) == (
            "header",
            "document",
            MediaLink(link="https://cdn.example/invoice.pdf"),
        )
        assert (text.type, [p.text for p in text.parameters]) == ("body", ["F-7"])


def _button(n: int, **change: str) -> list[dict]:
    return [b | change if i == n else b for i, b in enumerate(BUTTONS)]


async def test_each_bad_part_is_refused_naming_its_field(client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    url = BUTTONS[1]
    for change, field in (
        ({"header": {"kind": "text", "text": "Order {{1}} {{2}}", "url": ""}}, "header.text"),
        ({"header": {"kind": "text", "text": "", "url": ""}}, "header.text"),
        ({"header": {"kind": "video", "text": "", "url": "http://cdn.example/a.mp4"}}, "header.url"),
        ({"header": {"kind": "location", "text": "Here", "url": ""}}, "header"),
        ({"header": {"kind": "gif", "text": "", "url": ""}}, "header.kind"),
        ({"footer": "Code {{1}}"}, "footer"),
        ({"footer": "x" * 61}, "footer"),
        ({"buttons": _button(1, url="https://shop.example/{{1}}/track")}, "buttons.1.url"),
        ({"buttons": _button(1, url="shop.example/track")}, "buttons.1.url"),
        ({"buttons": _button(2, phone_number="600000000")}, "buttons.2.phone_number"),
        ({"buttons": _button(0, url="https://shop.example")}, "buttons.0"),
        ({"buttons": _button(0, text="x" * 26)}, "buttons[0].text"),
        ({"buttons": [*BUTTONS, url, url]}, "buttons.4"),
        ({"buttons": [*BUTTONS, BUTTONS[2]]}, "buttons.3"),
        ({"buttons": [BUTTONS[0]] * 11}, "buttons"),
        ({"category": "authentication"}, "body"),
        ({"category": "authentication", "body": ""}, "header"),
        ({"category": "authentication", "body": "", "header": None}, "footer"),
        ({"category": "authentication", "body": "", "header": None, "footer": ""}, "buttons.0"),
    ):
        answer = await client.post("/api/vendor-templates", json=GOOD | change, headers=headers)
        assert answer.status_code in (400, 422), (change, answer.text)  # the schema's, or the service's
        assert field in answer.text, (change, answer.text)
    assert whatsapp.meta.templates == {}


async def test_the_stand_in_refuses_components_meta_would(whatsapp):
    connection = VendorConnection(
        id=whatsapp.connection_id, channel="whatsapp", name="wa", settings=whatsapp.meta.connection_settings()
    )
    body = {"type": "BODY", "text": "Hi {{1}}"}
    for components in (
        [],
        [body, body],
        [{"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}"}, body],
        [{"type": "HEADER", "format": "IMAGE"}, body],
        [body, {"type": "FOOTER", "text": "Code {{1}}"}],
        [body, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://a.example/{{1}}"}]}],
        [body, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "x" * 26}]}],
        [body, {"type": "BUTTONS", "buttons": [{"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+1"}]}],
        [body, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://a.example"}] * 3}],
    ):
        template = TemplateSubmission(name="bad", language="en_US", category="UTILITY", components=components)
        with pytest.raises(ProviderError, match="error 100"):
            await WhatsAppChannel().submit_template(connection, template)
    assert whatsapp.meta.templates == {}


AUTH = {"name": "login_code", "language": "en_US", "category": "authentication"}


async def test_an_authentication_template_is_built_as_meta_does_and_sends_the_code_twice(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    body = AUTH | {"add_security_recommendation": True, "code_expiration_minutes": 5}
    created = await client.post("/api/vendor-templates", json=body, headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["body"] == "{{1}} is your verification code. For your security, do not share this code."
    assert (template["footer"], template["code_expiration_minutes"], template["add_security_recommendation"]) == (
        "This code expires in 5 minutes.",
        5,
        True,
    )
    assert template["buttons"] == [{"kind": "copy_code", "text": "Copy code", "url": "", "phone_number": ""}]
    [submitted] = whatsapp.meta.templates.values()
    assert submitted.category == "AUTHENTICATION"
    assert submitted.components == [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ]

    async def approved() -> bool:
        row = await VendorTemplate.select(VendorTemplate.status).where(VendorTemplate.id == template["id"]).first()
        return row["status"] == "approved"

    await eventually(approved)
    data = CampaignCreate(
        channel="whatsapp",
        sender_id=whatsapp.sender_id,
        text="482913 is your verification code. For your security, do not share this code.",
        numbers=["34607000001"],
        vendor_template_id=template["id"],
    )
    campaign = await create_campaign(app.state.portal, whatsapp.actor, data)
    assert (await wait_for_status(campaign.id, {"completed"}))["delivered"] == 1
    [sent] = whatsapp.meta.last_requests
    text, button = sent.template.components
    assert (text.type, [p.text for p in text.parameters]) == ("body", ["482913"])
    assert (button.type, button.sub_type, button.index, [p.text for p in button.parameters]) == (
        "button",
        "url",
        "0",
        ["482913"],
    )
    long_code = msgspec.structs.replace(data, text="1" * 16 + data.text.removeprefix("482913"))
    with pytest.raises(InvalidInput, match="at most 15 characters"):
        await create_campaign(app.state.portal, whatsapp.actor, long_code)


async def test_each_bad_part_of_an_authentication_template_is_refused_naming_its_field(client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    copy = {"kind": "copy_code", "text": "Copy code", "url": "", "phone_number": ""}
    for change, field in (
        ({"body": "Your code is {{1}}"}, "body"),
        ({"header": {"kind": "text", "text": "Code", "url": ""}}, "header"),
        ({"footer": "Valid for a while"}, "footer"),
        ({"code_expiration_minutes": 0}, "code_expiration_minutes"),
        ({"code_expiration_minutes": 91}, "code_expiration_minutes"),
        ({"buttons": [BUTTONS[0]]}, "buttons.0"),
        ({"buttons": [copy, copy]}, "buttons.1"),
        ({"buttons": [copy | {"text": ""}]}, "buttons[0].text"),
    ):
        answer = await client.post("/api/vendor-templates", json=AUTH | change, headers=headers)
        assert answer.status_code in (400, 422), (change, answer.text)
        assert field in answer.text, (change, answer.text)
    for change, field in (
        ({"buttons": [copy]}, "buttons.0.kind"),
        ({"add_security_recommendation": True}, "add_security_recommendation"),
        ({"code_expiration_minutes": 10}, "code_expiration_minutes"),
        ({"body": ""}, "body"),
    ):
        answer = await client.post("/api/vendor-templates", json=GOOD | change, headers=headers)
        assert answer.status_code == 422 and field in answer.text, (change, answer.text)
    assert whatsapp.meta.templates == {}


async def test_the_stand_in_refuses_authentication_components_meta_would(whatsapp):
    connection = VendorConnection(
        id=whatsapp.connection_id, channel="whatsapp", name="wa", settings=whatsapp.meta.connection_settings()
    )
    body = {"type": "BODY", "add_security_recommendation": True}
    otp = {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]}
    for components in (
        [body],
        [{"type": "BODY", "text": "Your code is {{1}}"}, otp],
        [body, {"type": "FOOTER", "code_expiration_minutes": 91}, otp],
        [body, {"type": "FOOTER", "text": "Soon"}, otp],
        [{"type": "HEADER", "format": "TEXT", "text": "Code"}, body, otp],
        [body, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Copy"}]}],
        [body, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "PASTE", "text": "Copy"}]}],
    ):
        template = TemplateSubmission(name="bad", language="en_US", category="AUTHENTICATION", components=components)
        with pytest.raises(ProviderError, match="error 100"):
            await WhatsAppChannel().submit_template(connection, template)
    utility = TemplateSubmission(name="bad", language="en_US", category="UTILITY", components=[body, otp])
    with pytest.raises(ProviderError, match="error 100"):
        await WhatsAppChannel().submit_template(connection, utility)
    assert whatsapp.meta.templates == {}
