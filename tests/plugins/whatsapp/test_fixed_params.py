"""A WhatsApp template whose text header and link button take a parameter: a campaign gives each one value, the
same for every recipient, through the API and the wizard; Meta (the stand-in) receives both with every message
and refuses a message lacking them; missing values and contact variables are refused naming their fields."""

from __future__ import annotations

import pytest

from core.campaigns.tables import Campaign
from core.db import json_value
from core.message_templates.tables import VendorTemplate
from tests.core.dispatch.conftest import wait_for_status
from tests.factories import post_form, sign_in
from tests.plugins.whatsapp.conftest import WhatsAppWorld
from tests.waiting import eventually

BUTTONS = [
    {"kind": "quick_reply", "text": "Stop promotions", "url": "", "phone_number": ""},
    {"kind": "url", "text": "Your order", "url": "https://shop.example/o/{{1}}", "phone_number": ""},
]
TEMPLATE = {
    "name": "order_ready",
    "language": "es",
    "category": "utility",
    "header": {"kind": "text", "text": "Order {{1}}", "url": ""},
    "body": "Hello {{1}}, your order is ready",
    "buttons": BUTTONS,
}


async def _approved_template(client, headers) -> int:
    created = await client.post("/api/vendor-templates", json=TEMPLATE, headers=headers)
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]

    async def approved() -> bool:
        row = await VendorTemplate.select(VendorTemplate.status).where(VendorTemplate.id == template_id).first()
        return row["status"] == "approved"

    await eventually(approved)
    return template_id


def _campaign(wa: WhatsAppWorld, template_id: int, **change: object) -> dict:
    return {
        "name": "Ready orders",
        "channel": "whatsapp",
        "sender_id": wa.sender_id,
        "text": "Hello Ana, your order is ready",
        "numbers": ["34607000001", "34607000002"],
        "vendor_template_id": template_id,
        "header_param": "A-17",
        "button_params": ["A-17?src=wa"],
    } | change


async def test_the_header_and_link_values_reach_meta_with_every_message(client_for, whatsapp):
    client, headers = client_for(whatsapp.tenant.host), {"Authorization": f"Bearer {whatsapp.tenant.api_key}"}
    template_id = await _approved_template(client, headers)
    created = await client.post("/api/campaigns", json=_campaign(whatsapp, template_id), headers=headers)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert (campaign["header_param"], campaign["button_params"]) == ("A-17", ["A-17?src=wa"])
    assert (await wait_for_status(campaign["id"], {"completed"}))["delivered"] == 2
    sent = sorted(whatsapp.meta.last_requests, key=lambda m: m.to)
    assert [m.to for m in sent] == ["34607000001", "34607000002"]
    for message in sent:
        assert [
            (c.type, c.sub_type, c.index, [(p.type, p.text) for p in c.parameters]) for c in message.template.components
        ] == [
            ("header", "", "", [("text", "A-17")]),
            ("body", "", "", [("text", "Ana")]),
            ("button", "url", "1", [("text", "A-17?src=wa")]),  # the link button is the template's second
        ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"header_param": ""}, "header_param", "Fill in the value of the template's header"),
        ({"button_params": []}, "button_params.0", "Fill in the end of the link button's address"),
        (
            {"header_param": "{first_name}"},
            "header_param",
            "A header's value is the same for every recipient: variables are not available there",
        ),
        (
            {"button_params": ["x-{order}"]},
            "button_params.0",
            "A link button's value is the same for every recipient: variables are not available there",
        ),
        ({"button_params": ["A-17", "B-2"]}, "button_params.1", "no further link button"),
    ],
)
async def test_missing_values_and_variables_are_refused_naming_their_field(
    client_for, whatsapp, change, field, message
):
    client, headers = client_for(whatsapp.tenant.host), {"Authorization": f"Bearer {whatsapp.tenant.api_key}"}
    template_id = await _approved_template(client, headers)
    refused = await client.post("/api/campaigns", json=_campaign(whatsapp, template_id, **change), headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == field
    assert message in refused.json()["detail"]
    assert await Campaign.count() == 0 and not whatsapp.meta.last_requests


async def test_a_template_without_them_refuses_the_values(client_for, whatsapp):
    client, headers = client_for(whatsapp.tenant.host), {"Authorization": f"Bearer {whatsapp.tenant.api_key}"}
    plain = _campaign(whatsapp, whatsapp.template_id, text="Hi Ana, your order A-1 is on its way")
    refused = await client.post("/api/campaigns", json=plain, headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "header_param"
    on_sms = plain | {
        "channel": "sms",
        "sender_id": whatsapp.tenant.sender_id,
        "vendor_template_id": None,
        "header_param": "",
    }
    refused = await client.post("/api/campaigns", json=on_sms, headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "button_params"


async def test_the_wizard_takes_the_values_shows_them_on_the_phone_and_repeat_brings_them_back(client_for, whatsapp):
    client, headers = client_for(whatsapp.tenant.host), {"Authorization": f"Bearer {whatsapp.tenant.api_key}"}
    template_id = await _approved_template(client, headers)
    await sign_in(client, whatsapp.tenant.end_user_admin)
    form = {
        "step": "1",
        "command": "channel",
        "name": "Ready orders",
        "channel": "whatsapp",
        "sender_id": str(whatsapp.sender_id),
        "vendor_template_id": str(template_id),
    }
    page = await post_form(client, "/campaigns/new", form)
    assert 'name="header_param"' in page.text and page.text.count('name="button_param"') == 1
    assert "https://shop.example/o/{{1}}" in page.text and ">Your order</div>" in page.text

    filled = form | {"command": "", "param": ["Ana"], "header_param": "A-17", "button_param": ["{order}"]}
    refused = await post_form(client, "/campaigns/new", filled | {"goto": "2"})
    assert refused.status_code == 422 and "variables are not available there" in refused.text
    assert 'data-testid="phone-header">Order A-17</div>' in refused.text

    filled["button_param"] = ["A-17"]
    sent = await post_form(
        client,
        "/campaigns/new",
        filled | {"step": "3", "command": "send", "mode": "numbers", "numbers_text": "+34607000001", "timezone": "UTC"},
    )
    assert sent.status_code in (302, 303), sent.text
    row = await Campaign.select().where(Campaign.name == "Ready orders").first()
    assert json_value(row["content"])["template_header_param"] == "A-17"
    assert json_value(row["content"])["template_button_1"] == "A-17"
    await wait_for_status(row["id"], {"completed"})
    [message] = whatsapp.meta.last_requests
    assert [(c.type, [p.text for p in c.parameters]) for c in message.template.components] == [
        ("header", ["A-17"]),
        ("body", ["Ana"]),
        ("button", ["A-17"]),
    ]

    repeat = await client.get(f"/campaigns/new?repeat={row['id']}")
    assert f'<option value="{template_id}" selected' in repeat.text
    assert 'name="header_param" value="A-17"' in repeat.text and 'name="button_param" value="A-17"' in repeat.text
    assert 'name="param" value="Ana"' in repeat.text
