"""The campaign wizard's WhatsApp form: only approved templates and WhatsApp sender IDs are offered, the chosen
template's parameters are filled in (the phone shows the result), and the campaign sends that template."""

from __future__ import annotations

from datetime import UTC, datetime

from core.campaigns.tables import Campaign
from core.db import json_value
from core.senders.tables import Sender
from tests.factories import make_world, post_form, sign_in
from tests.plugins.whatsapp.conftest import BODY, add_connection, add_template, add_whatsapp_plan


async def _session(client_for):
    world = await make_world()
    now = datetime.now(UTC)
    sender = await Sender.insert(
        Sender(partner=world.a.end_user_id, channel="whatsapp", name="34910000000", status="enabled", created_at=now)
    ).returning(Sender.id)
    connection = await add_connection("WhatsApp", {"api_url": "http://127.0.0.1:9"})
    approved = await add_template(world.a.end_user_id, connection)
    await add_template(world.a.end_user_id, connection, name="still_pending", status="pending")
    await add_template(world.b.end_user_id, connection, name="their_template")
    await add_whatsapp_plan(world.a.end_user_id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    return world, client, sender[0]["id"], approved


async def test_whatsapp_offers_approved_templates_and_fills_their_parameters(client_for):
    world, client, sender, approved = await _session(client_for)
    form = {"step": "1", "command": "channel", "name": "Orders", "channel": "whatsapp", "text": "An SMS text"}
    page = await post_form(client, "/campaigns/new", form | {"sender_id": str(world.a.sender_id)})
    html = page.text
    assert page.status_code == 200 and 'data-testid="vendor-template"' in html
    assert f'<option value="{sender}"' in html and ">BrandA<" not in html  # only WhatsApp sender IDs
    assert f'<option value="{approved}"' in html and "order_update (es)" in html
    assert "still_pending" not in html and "their_template" not in html
    assert 'id="message-text"' not in html and 'name="param"' not in html

    chosen = form | {"sender_id": str(sender), "vendor_template_id": str(approved)}
    page = await post_form(client, "/campaigns/new", chosen)
    assert page.text.count('name="param"') == 2 and f'data-body="{BODY}"' in page.text

    unfilled = await post_form(client, "/campaigns/new", chosen | {"command": "", "goto": "2", "param": ["Ana", ""]})
    assert unfilled.status_code == 422 and "Fill in every parameter" in unfilled.text
    assert 'id="phone-preview">Hi Ana, your order  is on its way</div>' in unfilled.text

    filled = chosen | {"command": "", "param": ["{first_name}", "A-17"]}
    step_2 = await post_form(client, "/campaigns/new", filled | {"goto": "2"})
    assert step_2.status_code == 200 and 'name="mode"' in step_2.text
    # Back on SMS, the SMS text is there as typed.
    sms = await post_form(client, "/campaigns/new", filled | {"channel": "sms"})
    assert ">An SMS text</textarea>" in sms.text and 'data-testid="vendor-template"' not in sms.text

    sent = await post_form(
        client,
        "/campaigns/new",
        filled
        | {
            "step": "3",
            "command": "send",
            "mode": "numbers",
            "numbers_text": "+34607000001",
            "send_mode": "now",
            "timezone": "UTC",
        },
    )
    assert sent.status_code in (302, 303), sent.text
    row = await Campaign.select().where(Campaign.name == "Orders").first()
    assert (row["channel"], row["text"]) == ("whatsapp", "Hi {first_name}, your order A-17 is on its way")
    assert json_value(row["content"]) == {
        "template_name": "order_update",
        "template_language": "es",
        "template_body": BODY,
    }
