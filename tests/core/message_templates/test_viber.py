"""Viber campaign templates: image and button with the traffic type they make, each bad input naming its field, by
page and API; premoderated ones approved before use; a campaign from one sends its image and button."""

from __future__ import annotations

from datetime import UTC, datetime

from core.campaigns.tables import Campaign
from core.message_templates.tables import MessageTemplate
from core.senders.tables import Sender
from tests.core.dispatch.conftest import wait_for_status
from tests.core.message_templates.test_premoderation import decide, open_request, premoderate
from tests.factories import api_token, make_world, post_form, sign_in
from tests.plugins.viber.conftest import ViberWorld, add_viber_plan, aggregator, served, viber  # noqa: F401 — fixtures

IMAGE, SHOP = "https://cdn.example.com/spring.jpg", "https://shop.example.com/sale"


async def _viber_sender(partner_id: int, name: str = "ShopViber", status: str = "enabled") -> int:
    rows = await Sender.insert(
        Sender(partner=partner_id, channel="viber", name=name, status=status, created_at=datetime.now(UTC))
    ).returning(Sender.id)
    return rows[0]["id"]


def _body(sender_id: int, **changes: object) -> dict[str, object]:
    return {
        "name": "Spring",
        "channel": "viber",
        "sender_id": sender_id,
        "text": "Hi {first_name}, spring sale -20% 🌷",
        "image_url": IMAGE,
        "button_caption": "Shop now",
        "button_url": SHOP,
        **changes,
    }


async def test_api_creates_changes_and_deletes_a_viber_template_with_its_derived_traffic_type(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = {"Authorization": f"Bearer {world.a.api_key}"}
    sender = await _viber_sender(world.a.end_user_id)
    created = await client.post("/api/templates", json=_body(sender), headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert (template["channel"], template["sender"], template["sender_enabled"]) == ("viber", "ShopViber", True)
    assert (template["image_url"], template["button_caption"], template["button_url"]) == (IMAGE, "Shop now", SHOP)
    assert template["traffic_type"] == "promotion" and template["flash"] is False
    listed = (await client.get("/api/templates?channel=viber", headers=headers)).json()
    assert [t["name"] for t in listed["items"]] == ["Spring"]
    assert (await client.get("/api/templates?channel=sms", headers=headers)).json()["total"] == 0

    # Only the image left: still a promotion; neither: a transaction, and nothing of them is kept.
    only_image = await client.patch(
        f"/api/templates/{template['id']}", json={"button_caption": "", "button_url": ""}, headers=headers
    )
    assert only_image.status_code == 200, only_image.text
    assert (only_image.json()["button_caption"], only_image.json()["traffic_type"]) == ("", "promotion")
    plain = await client.patch(f"/api/templates/{template['id']}", json={"image_url": ""}, headers=headers)
    assert plain.json()["traffic_type"] == "transaction" and plain.json()["image_url"] == ""
    row = await MessageTemplate.select(MessageTemplate.content).where(MessageTemplate.id == template["id"]).first()
    assert row is not None and "image_url" not in str(row["content"]) and "button_url" not in str(row["content"])
    assert (await client.delete(f"/api/templates/{template['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/templates/{template['id']}", headers=headers)).status_code == 404


async def test_api_bad_viber_input_names_its_field_and_saves_nothing(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = {"Authorization": f"Bearer {world.a.api_key}"}
    sender = await _viber_sender(world.a.end_user_id)
    off = await _viber_sender(world.a.end_user_id, "OffViber", "disabled")
    theirs = await _viber_sender(world.b.end_user_id, "TheirViber")
    cases = [
        (_body(sender, name=" "), "name", "name"),
        (_body(sender, text=" "), "text", "empty"),
        (_body(sender, text="Hi {nickname}"), "text", "{nickname}"),
        (_body(world.a.sender_id), "sender_id", "enabled sender"),  # an SMS sender ID
        (_body(off), "sender_id", "enabled sender"),
        (_body(theirs), "sender_id", "enabled sender"),
        (_body(sender, image_url="javascript:alert(1)"), "image_url", "web address"),
        (_body(sender, button_url=""), "button_url", "Give the address the button leads to"),
        (_body(sender, button_caption=""), "button_caption", "Give the button a caption"),
        (_body(sender, button_url="shop.example.com"), "button_url", "web address"),
        (_body(world.a.sender_id, channel="sms", button_caption="", button_url=""), "image_url", "cannot show images"),
        (_body(world.a.sender_id, channel="sms", image_url=""), "button_caption", "cannot show buttons"),
        (_body(sender, channel="whatsapp"), "channel", "whatsapp"),
    ]
    for data, field, words in cases:
        response = await client.post("/api/templates", json=data, headers=headers)
        assert response.status_code == 422, (data, response.text)
        assert response.json().get("field") == field and words in response.json()["detail"], (data, response.json())
    too_long = await client.post("/api/templates", json=_body(sender, button_caption="x" * 31), headers=headers)
    assert too_long.status_code == 400 and "button_caption" in too_long.text
    assert (await client.get("/api/templates", headers=headers)).json()["total"] == 0
    created = (await client.post("/api/templates", json=_body(sender), headers=headers)).json()
    refused = await client.patch(f"/api/templates/{created['id']}", json={"button_url": "ftp://x"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "button_url"


async def test_the_page_switches_to_viber_creates_edits_and_deletes_with_errors_on_their_fields(client_for):
    world = await make_world()
    sender = await _viber_sender(world.a.end_user_id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    sms = (await client.get("/templates/new")).text
    assert 'data-testid="rich-fields"' not in sms and 'data-testid="switch-channel"' in sms
    typed = {"name": "Spring", "channel": "viber", "sender_id": "", "text": "Sale -20%"}
    switched = await post_form(client, "/templates", typed | {"command": "channel"})
    assert switched.status_code == 200 and 'data-testid="rich-fields"' in switched.text
    assert f'<option value="{sender}"' in switched.text and ">BrandA<" not in switched.text
    assert ">Sale -20%</textarea>" in switched.text and ">Transaction</strong>" in switched.text
    assert not await MessageTemplate.exists()

    form = typed | {"sender_id": str(sender), "image_url": IMAGE, "button_caption": "Shop now", "button_url": ""}
    refused = await post_form(client, "/templates", form)
    assert refused.status_code == 422 and "Give the address the button leads to" in refused.text
    assert 'name="button_url" value="" maxlength="1000" placeholder="https://" id="button-url" aria-invalid="true"' in (
        refused.text
    )
    assert (
        f'value="{IMAGE}"' in refused.text
        and ">Promotion</strong>" in refused.text
        and ">Shop now</div>" in refused.text
    )
    bad_image = await post_form(client, "/templates", form | {"image_url": "cdn.example.com/a.jpg", "button_url": SHOP})
    assert bad_image.status_code == 422 and 'id="image-url" aria-invalid="true"' in bad_image.text

    created = await post_form(client, "/templates", form | {"button_url": SHOP})
    assert created.status_code in (302, 303), created.text
    row = await MessageTemplate.select().first()
    assert row is not None and row["channel"] == "viber"
    tiles = (await client.get("/templates?channel=viber")).text
    assert f'data-testid="rich-{row["id"]}"' in tiles and f'src="{IMAGE}"' in tiles and ">Shop now</span>" in tiles
    assert f'data-testid="traffic-{row["id"]}"' in tiles and ">Promotion</span>" in tiles
    assert f"/campaigns/new?template={row['id']}" in tiles
    assert f'data-testid="template-{row["id"]}"' not in (await client.get("/templates?channel=sms")).text

    edit = (await client.get(f"/templates/{row['id']}")).text
    assert f'value="{IMAGE}"' in edit and 'value="Shop now"' in edit and 'id="phone-button"' in edit
    bad_edit = await post_form(client, f"/templates/{row['id']}", form | {"button_url": "nowhere"})
    assert bad_edit.status_code == 422 and 'id="button-url" aria-invalid="true"' in bad_edit.text
    saved = await post_form(
        client, f"/templates/{row['id']}", form | {"image_url": "", "button_caption": "", "button_url": ""}
    )
    assert saved.status_code in (302, 303), saved.text
    assert ">Transaction</span>" in (await client.get("/templates")).text
    deleted = await post_form(client, f"/templates/{row['id']}/delete", {})
    assert deleted.status_code in (302, 303) and not await MessageTemplate.exists()


async def test_a_premoderated_viber_template_is_confirmed_then_used(app, client_for):
    world = await make_world()
    sender = await _viber_sender(world.a.end_user_id)
    await add_viber_plan(world.a.end_user_id)
    user, reseller, owner = client_for(world.a.host), client_for(world.a.host), client_for(world.owner_host)
    uh = await api_token(user, world.a.end_user_admin)
    rh = await api_token(reseller, world.a.reseller_admin)
    oh = await api_token(owner, "owner@main.test")
    await premoderate(world.a.end_user_id)
    template = (await user.post("/api/templates", json=_body(sender), headers=uh)).json()
    assert template["status"] == "waiting"
    request = await open_request(template["id"])
    assert IMAGE in str(request["payload"]) and SHOP in str(request["payload"])
    await sign_in(reseller, world.a.reseller_admin)
    shown = (await reseller.get(f"/admin/requests/{request['id']}")).text
    assert 'data-testid="request-image"' in shown and ">Shop now → " in shown
    await decide(reseller, rh, request["id"], "pass_up")
    await decide(owner, oh, request["id"], "confirm")
    assert (await user.get(f"/api/templates/{template['id']}", headers=uh)).json()["status"] == "approved"
    # A change to the button asks again.
    changed = await user.patch(f"/api/templates/{template['id']}", json={"button_caption": "Buy"}, headers=uh)
    assert changed.json()["status"] == "waiting"
    await open_request(template["id"])


async def test_a_campaign_from_a_viber_template_sends_its_image_and_button(client_for, viber: ViberWorld):  # noqa: F811
    client = client_for(viber.tenant.host)
    headers = {"Authorization": f"Bearer {viber.tenant.api_key}"}
    template = (await client.post("/api/templates", json=_body(viber.sender_id), headers=headers)).json()
    await sign_in(client, viber.tenant.end_user_admin)
    wizard = (await client.get(f"/campaigns/new?template={template['id']}")).text
    assert 'data-channel="viber"' in wizard and f'value="{IMAGE}"' in wizard and 'value="Shop now"' in wizard
    assert f'value="{SHOP}"' in wizard and ">Promotion</strong>" in wizard
    assert f'<option value="{viber.sender_id}" selected' in wizard

    # "Use template" on the Viber form fills the same fields.
    used = await post_form(
        client,
        "/campaigns/new",
        {"step": "1", "command": "use_template", "channel": "viber", "use_template_id": str(template["id"])},
    )
    assert f'value="{IMAGE}"' in used.text and f'value="{SHOP}"' in used.text

    sent = await post_form(
        client,
        "/campaigns/new",
        {
            "step": "3",
            "command": "send",
            "name": "From template",
            "channel": "viber",
            "sender_id": str(viber.sender_id),
            "text": "Spring sale -20%",
            "image_url": IMAGE,
            "button_caption": "Shop now",
            "button_url": SHOP,
            "template_id": str(template["id"]),
            "mode": "numbers",
            "numbers_text": "+34607000001",
            "send_mode": "now",
            "timezone": "UTC",
        },
    )
    assert sent.status_code in (302, 303), sent.text
    campaign = await Campaign.select(Campaign.id, Campaign.template_id).where(Campaign.name == "From template").first()
    assert campaign is not None and campaign["template_id"] == template["id"]
    await wait_for_status(campaign["id"], {"completed"})
    [request] = viber.aggregator.last_requests
    assert (request.image, request.button_caption, request.button_action) == (IMAGE, "Shop now", SHOP)
    assert request.message_type == 108  # a promotion: image, text and button


async def test_save_as_template_from_the_viber_form_keeps_the_image_and_button(client_for):
    world = await make_world()
    sender = await _viber_sender(world.a.end_user_id)
    await add_viber_plan(world.a.end_user_id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    form = {
        "step": "1",
        "command": "save_template",
        "channel": "viber",
        "sender_id": str(sender),
        "text": "Sale",
        "image_url": IMAGE,
        "button_caption": "Shop now",
        "button_url": "",
        "template_name": "Sale",
    }
    refused = await post_form(client, "/campaigns/new", form)
    assert refused.status_code == 422 and 'id="button-url" aria-invalid="true"' in refused.text
    saved = await post_form(client, "/campaigns/new", form | {"button_url": SHOP})
    assert saved.status_code == 200 and 'data-testid="template-saved"' in saved.text
    row = await MessageTemplate.select().where(MessageTemplate.name == "Sale").first()
    assert row is not None and row["channel"] == "viber" and SHOP in str(row["content"])
