"""The campaign wizard's Viber form: switching channel switches the form and its sender IDs, keeps what was
typed, shows the image, the button and the traffic type, and sends them with the campaign."""

from __future__ import annotations

from datetime import UTC, datetime

from core.campaigns.tables import Campaign
from core.db import json_value
from core.senders.tables import Sender
from tests.factories import make_world, post_form, sign_in
from tests.plugins.viber.conftest import add_viber_plan

IMAGE, SHOP = "https://cdn.example.com/spring.jpg", "https://shop.example.com/sale"


async def _session(client_for):
    world = await make_world()
    now = datetime.now(UTC)
    senders = {}
    for name, status in (("ShopViber", "enabled"), ("OffViber", "disabled")):
        rows = await Sender.insert(
            Sender(partner=world.a.end_user_id, channel="viber", name=name, status=status, created_at=now)
        ).returning(Sender.id)
        senders[name] = rows[0]["id"]
    await add_viber_plan(world.a.end_user_id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    return world, client, senders


async def test_switching_to_viber_shows_its_form_and_senders_and_keeps_the_text(client_for):
    world, client, senders = await _session(client_for)
    sms = (await client.get("/campaigns/new")).text
    assert 'data-testid="rich-fields"' not in sms and "BrandA" in sms and "ShopViber" not in sms

    form = {"step": "1", "command": "channel", "name": "Spring", "channel": "viber", "text": "Sale -20%"}
    viber = await post_form(client, "/campaigns/new", form | {"sender_id": str(world.a.sender_id)})
    html = viber.text
    assert viber.status_code == 200 and 'data-testid="rich-fields"' in html
    assert f'<option value="{senders["ShopViber"]}"' in html  # only enabled Viber sender IDs
    assert "OffViber" not in html and ">BrandA<" not in html
    assert ">Sale -20%</textarea>" in html and 'data-channel="viber"' in html
    assert 'data-testid="traffic-type"' in html and ">Transaction</strong>" in html

    rich = form | {"sender_id": str(senders["ShopViber"]), "image_url": IMAGE, "button_caption": "Shop now"}
    refused = await post_form(client, "/campaigns/new", rich | {"command": "", "goto": "2"})
    assert refused.status_code == 422 and "Give the address the button leads to" in refused.text
    assert f'value="{IMAGE}"' in refused.text and ">Promotion</strong>" in refused.text
    assert 'id="phone-image"' in refused.text and ">Shop now</div>" in refused.text

    # Back to SMS: the image and button stay in the form, unused, and come back with Viber.
    back = await post_form(client, "/campaigns/new", rich | {"channel": "sms", "button_url": SHOP})
    assert 'data-testid="rich-fields"' not in back.text
    assert f'<input type="hidden" name="image_url" value="{IMAGE}">' in back.text
    to_step_2 = await post_form(
        client,
        "/campaigns/new",
        rich | {"command": "", "goto": "2", "channel": "sms", "sender_id": str(world.a.sender_id), "button_url": SHOP},
    )
    assert to_step_2.status_code == 200 and 'name="mode"' in to_step_2.text  # SMS ignores them


async def test_a_viber_campaign_from_the_wizard_keeps_its_image_and_button(client_for):
    _world, client, senders = await _session(client_for)
    data = {
        "step": "3",
        "command": "send",
        "name": "Spring",
        "channel": "viber",
        "sender_id": str(senders["ShopViber"]),
        "text": "Sale -20%",
        "image_url": IMAGE,
        "button_caption": "Shop now",
        "button_url": SHOP,
        "mode": "numbers",
        "numbers_text": "+34607000001",
        "send_mode": "now",
        "timezone": "UTC",
    }
    sent = await post_form(client, "/campaigns/new", data)
    assert sent.status_code in (302, 303), sent.text
    row = await Campaign.select().where(Campaign.name == "Spring").first()
    assert row["channel"] == "viber"
    assert json_value(row["content"]) == {"image_url": IMAGE, "button_caption": "Shop now", "button_url": SHOP}
    details = (await client.get(f"/campaigns/{row['id']}")).text
    assert 'data-testid="rich-content"' in details and f">{IMAGE}</a>" in details and ">Promotion</dd>" in details
