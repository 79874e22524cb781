"""A Viber campaign's image, button and validity reach the aggregator; other channels refuse them."""

from __future__ import annotations

import pytest

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign, get_campaign
from core.errors import InvalidInput
from tests.core.dispatch.conftest import wait_for_status
from tests.plugins.viber.conftest import ViberWorld

IMAGE, SHOP = "https://cdn.example.com/spring.jpg", "https://shop.example.com/sale"


async def test_image_and_button_go_as_a_promotion_with_the_campaigns_validity_as_ttl(app, viber: ViberWorld):
    data = CampaignCreate(
        channel="viber",
        sender_id=viber.sender_id,
        text="Spring sale -20%",
        image_url=f" {IMAGE} ",
        button_caption="Shop now",
        button_url=SHOP,
        validity_hours=2,
        numbers=["34607000001"],
    )
    campaign = await create_campaign(app.state.portal, viber.actor, data)
    assert (campaign.image_url, campaign.button_caption, campaign.traffic_type) == (IMAGE, "Shop now", "promotion")
    await wait_for_status(campaign.id, {"completed"})
    [sent] = viber.aggregator.last_requests
    assert (sent.message_type, sent.source_type, sent.validity_period) == (108, 1, 7200)
    assert (sent.image, sent.button_caption, sent.button_action) == (IMAGE, "Shop now", SHOP)
    plain = await create_campaign(
        app.state.portal,
        viber.actor,
        CampaignCreate(channel="viber", sender_id=viber.sender_id, text="Your order shipped", numbers=["34607000002"]),
    )
    assert (await get_campaign(viber.actor, plain.id)).traffic_type == "transaction"
    await wait_for_status(plain.id, {"completed"})
    assert (viber.aggregator.last_requests[-1].message_type, viber.aggregator.last_requests[-1].source_type) == (106, 2)


REFUSED = [
    ({"channel": "sms", "image_url": IMAGE}, "image_url", "The chosen channel cannot show images"),
    ({"channel": "sms", "button_caption": "Go", "button_url": SHOP}, "button_caption", "cannot show buttons"),
    ({"button_caption": "Go"}, "button_url", "Give the address the button leads to"),
    ({"button_url": SHOP}, "button_caption", "Give the button a caption"),
    ({"image_url": "javascript:alert(1)"}, "image_url", "web address"),
    ({"button_caption": "Go", "button_url": "shop.example.com"}, "button_url", "web address"),
]


async def test_images_and_buttons_are_refused_where_they_cannot_be_shown(app, viber: ViberWorld):
    for fields, field, message in REFUSED:
        sender = viber.tenant.sender_id if fields.get("channel") == "sms" else viber.sender_id
        base = {"channel": "viber", "sender_id": sender, "text": "Hi", "numbers": ["34607000001"]}
        with pytest.raises(InvalidInput, match=message) as refused:
            await create_campaign(app.state.portal, viber.actor, CampaignCreate(**(base | fields)))
        assert refused.value.field == field, fields
    assert not viber.aggregator.last_requests
