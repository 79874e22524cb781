"""The wizard's "Shorten a link" (URL-1): shown only with a short domain, checked, counted at the real length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from tests.core.contacts.helpers import actor_of
from tests.factories import make_world, post_form, sign_in
from tests.plugins.shortener.conftest import DOMAIN, grant_domain

LONG = "https://a.io"


def setup_form(world, **changes):
    return {
        "step": "1",
        "goto": "1",
        "name": "Spring",
        "channel": "sms",
        "sender_id": str(world.a.sender_id),
        "text": "x" * 147 + " " + LONG,  # 160 characters: one part, two once shortened
        **changes,
    }


async def test_the_wizard_offers_shortening_only_with_a_domain_and_counts_the_short_link(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = (await client.get("/campaigns/new")).text
    assert 'data-testid="short-link"' not in page and 'href="/shortener"' not in page
    await grant_domain(world, world.a)
    assert (await actor_of(world.a)).short_domains == (DOMAIN,)
    page = (await client.get("/campaigns/new")).text
    assert 'data-testid="short-link"' in page and f">{DOMAIN}</option>" in page
    assert 'href="/shortener"' in page
    plain = await post_form(client, "/campaigns/new", setup_form(world, goto="2"))
    assert plain.status_code == 200 and 'name="short_domain" value=""' in plain.text  # no link: no domain kept
    missing = await post_form(
        client, "/campaigns/new", setup_form(world, goto="2", short_url="https://b.io", short_domain=DOMAIN)
    )
    assert missing.status_code == 422 and "must appear in the message text" in missing.text
    counted = await post_form(client, "/campaigns/new", setup_form(world, short_url=LONG, short_domain=DOMAIN))
    assert "Server count: 2 parts" in counted.text
    unshortened = await post_form(client, "/campaigns/new", setup_form(world))
    assert "Server count: 1 part" in unshortened.text


async def test_the_campaigns_list_shows_the_link_each_campaign_shortens(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    await grant_domain(world, world.a)
    actor = await actor_of(world.a)
    later = datetime.now(UTC) + timedelta(days=1)
    text = f"Spring sale {LONG}"
    common = {"sender_id": world.a.sender_id, "numbers": ["+34612345678"], "send_at": later}
    linked = await create_campaign(
        app.state.portal, actor, CampaignCreate(name="Linked", text=text, short_url=LONG, short_domain=DOMAIN, **common)
    )
    plain = await create_campaign(app.state.portal, actor, CampaignCreate(name="Plain", text=text, **common))
    page = (await client.get("/campaigns")).text
    cell = page[page.index(f'data-testid="short-link-{linked.id}"') :]
    assert DOMAIN in cell[:300] and f'href="{LONG}"' in cell[:300]
    assert "—" in page[page.index(f'data-testid="short-link-{plain.id}"') :][:120]
