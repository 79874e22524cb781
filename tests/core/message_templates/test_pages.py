"""Templates page (TPL-5): tiles, filters, empty state, forms with errors, delete warning, and the wizard's use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.campaigns.services import act
from core.campaigns.tables import Campaign
from core.message_templates.tables import MessageTemplate
from core.senders.tables import Sender
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.message_templates.helpers import allow_flash, session, template
from tests.factories import api_token, post_form
from tests.isolation import foreign_id_responses


async def test_empty_state_and_the_menu_link(client_for):
    _world, client, _actor = await session(client_for)
    html = (await client.get("/templates")).text
    assert "No templates yet." in html and 'href="/templates/new"' in html
    assert 'href="/templates" class="menu-link active"' in html
    # Only the channels with a template kind: WhatsApp sends its vendor's templates instead.
    assert '<option value="sms"' in html and '<option value="viber"' in html and '<option value="whatsapp"' not in html


async def test_create_through_the_form_then_tiles_with_counter_filters_and_pages(client_for):
    world, client, _actor = await session(client_for)
    await allow_flash(world.a.end_user_id)
    form = await client.get("/templates/new")
    assert form.status_code == 200 and "BrandA" in form.text and 'data-variable="first_name"' in form.text
    created = await post_form(
        client,
        "/templates",
        {"name": "Welcome <b>", "channel": "sms", "sender_id": str(world.a.sender_id), "text": "Hi {first_name}!"},
    )
    assert created.status_code in (302, 303) and created.headers["location"].startswith("/templates?done=created")
    for n in range(25):
        await post_form(
            client,
            "/templates",
            {"name": f"Promo {n:02d}", "sender_id": str(world.a.sender_id), "text": "y" * 200, "flash": "1"},
        )
    html = (await client.get("/templates?q=welcome")).text
    row = await MessageTemplate.select().where(MessageTemplate.name == "Welcome <b>").first()
    assert "Welcome &lt;b&gt;" in html and "Promo" not in html
    assert f'href="/campaigns/new?template={row["id"]}"' in html
    assert re.search(rf'data-testid="count-{row["id"]}">\s*14 characters · 1 part', html)
    promo = (await client.get("/templates?q=promo%2024")).text
    assert "200 characters · 2 parts" in promo and "Flash" in promo
    first = (await client.get("/templates?per_page=12")).text
    assert "Page 1 / 3" in first and "page_no=2" in first
    last = (await client.get("/templates?per_page=12&page_no=3")).text
    assert last.count('class="card tile"') == 2
    assert "No template matches these filters." in (await client.get("/templates?q=nothing")).text


async def test_form_errors_name_the_field_and_keep_what_was_typed(app, client_for):
    world, client, actor = await session(client_for)
    empty = await post_form(client, "/templates", {"name": "", "sender_id": str(world.a.sender_id), "text": "Hello"})
    assert empty.status_code == 422 and "Give the template a name" in empty.text and ">Hello</textarea>" in empty.text
    no_text = await post_form(client, "/templates", {"name": "T", "sender_id": str(world.a.sender_id), "text": ""})
    assert no_text.status_code == 422 and "The message text is empty" in no_text.text
    no_sender = await post_form(client, "/templates", {"name": "T", "sender_id": "", "text": "Hi"})
    assert no_sender.status_code == 422 and "enabled sender IDs" in no_sender.text
    await template(app, actor, world.a.sender_id)
    taken = await post_form(client, "/templates", {"name": "welcome", "sender_id": str(world.a.sender_id), "text": "x"})
    assert taken.status_code == 409 and "already exists" in taken.text and 'aria-invalid="true"' in taken.text
    await Sender.update({Sender.status: "disabled"}).where(Sender.id == world.a.sender_id)
    disabled = await post_form(client, "/templates", {"name": "New", "sender_id": str(world.a.sender_id), "text": "x"})
    assert disabled.status_code == 422 and "enabled sender IDs" in disabled.text
    assert await MessageTemplate.count() == 1
    tiles = (await client.get("/templates")).text
    assert "not enabled" in tiles


async def test_edit_and_delete(app, client_for):
    world, client, actor = await session(client_for)
    made = await template(app, actor, world.a.sender_id)
    page = (await client.get(f"/templates/{made.id}")).text
    assert 'value="Welcome"' in page and "Hi {first_name}, welcome!</textarea>" in page
    saved = await post_form(
        client, f"/templates/{made.id}", {"name": "Hello", "sender_id": str(world.a.sender_id), "text": "Changed"}
    )
    assert saved.status_code in (302, 303)
    row = await MessageTemplate.select().where(MessageTemplate.id == made.id).first()
    assert row["name"] == "Hello" and "Changed" in str(row["content"])
    bad = await post_form(client, f"/templates/{made.id}", {"name": "Hello", "sender_id": "", "text": "Changed"})
    assert bad.status_code == 422 and "enabled sender IDs" in bad.text
    deleted = await post_form(client, f"/templates/{made.id}/delete", {})
    assert deleted.status_code in (302, 303) and await MessageTemplate.count() == 0
    assert (await client.get(f"/templates/{made.id}")).status_code == 404


async def test_delete_warns_first_then_the_scheduled_campaign_fails_at_launch(app, client_for):
    world, client, actor = await session(client_for)
    made = await template(app, actor, world.a.sender_id)
    campaign = await scheduled_campaign(app, actor, world.a, name="Launch day", template_id=made.id)
    warned = await post_form(client, f"/templates/{made.id}/delete", {})
    assert warned.status_code == 409 and 'data-testid="delete-warning"' in warned.text
    assert f'href="/campaigns/{campaign.id}">Launch day' in warned.text
    assert await MessageTemplate.count() == 1
    gone = await post_form(client, f"/templates/{made.id}/delete", {"force": "1"})
    assert gone.status_code in (302, 303) and await MessageTemplate.count() == 0
    view = await act(app.state.portal, actor, campaign.id, "start")
    assert view is not None and view.status == "failed" and view.status_reason == "The template was deleted"
    details = (await client.get(f"/campaigns/{campaign.id}")).text
    assert "The template was deleted" in details


async def test_create_campaign_from_a_tile_prefills_the_wizard_and_sends_with_its_text_and_sender(app, client_for):
    world, client, actor = await session(client_for)
    await allow_flash(world.a.end_user_id)
    made = await template(app, actor, world.a.sender_id, text="Sale for {first_name}", flash=True)
    wizard = (await client.get(f"/campaigns/new?template={made.id}")).text
    assert ">Sale for {first_name}</textarea>" in wizard
    assert f'<option value="{world.a.sender_id}" selected>' in wizard
    assert f'name="template_id" value="{made.id}"' in wizard
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    sent = await post_form(
        client,
        "/campaigns/new",
        {
            "step": "3",
            "command": "send",
            "name": "From the tile",
            "channel": "sms",
            "sender_id": str(world.a.sender_id),
            "text": "Sale for {first_name}",
            "flash": "1",
            "template_id": str(made.id),
            "mode": "groups",
            "group_ids": str(world.a.group_id),
            "send_mode": "later",
            "send_date": tomorrow,
            "send_time": "10:00",
            "timezone": "UTC",
        },
    )
    assert sent.status_code in (302, 303), sent.text[-800:]
    row = await Campaign.select().where(Campaign.name == "From the tile").first()
    assert row["text"] == "Sale for {first_name}" and row["sender_id"] == world.a.sender_id
    assert row["template_id"] == made.id and row["flash"] is True
    assert (await client.get(f"/campaigns/new?template={world.b.sender_id + 10_000}")).status_code == 404


async def test_use_template_and_save_as_template_in_the_wizard(app, client_for):
    world, client, actor = await session(client_for)
    made = await template(app, actor, world.a.sender_id, text="From the template")
    step1 = (await client.get("/campaigns/new")).text
    assert f'<option value="{made.id}">Welcome</option>' in step1
    base = {"step": "1", "name": "Mine", "channel": "sms", "sender_id": "", "text": ""}
    used = await post_form(
        client, "/campaigns/new", {**base, "command": "use_template", "use_template_id": str(made.id)}
    )
    assert used.status_code == 200 and ">From the template</textarea>" in used.text
    assert f'<option value="{world.a.sender_id}" selected>' in used.text and 'value="Mine"' in used.text
    none = await post_form(client, "/campaigns/new", {**base, "command": "use_template", "use_template_id": ""})
    assert none.status_code == 422 and "Choose a template" in none.text
    typed = {**base, "sender_id": str(world.a.sender_id), "text": "Typed {last_name}", "command": "save_template"}
    unnamed = await post_form(client, "/campaigns/new", {**typed, "template_name": ""})
    assert unnamed.status_code == 422 and "Give the template a name" in unnamed.text
    taken = await post_form(client, "/campaigns/new", {**typed, "template_name": "welcome"})
    assert taken.status_code == 409 and "already exists" in taken.text
    saved = await post_form(client, "/campaigns/new", {**typed, "template_name": "Typed one"})
    assert saved.status_code == 200 and 'data-testid="template-saved"' in saved.text
    row = await MessageTemplate.select().where(MessageTemplate.name == "Typed one").first()
    assert row is not None and "Typed {last_name}" in str(row["content"]) and row["sender_id"] == world.a.sender_id
    assert f'name="template_id" value="{row["id"]}"' in saved.text and ">Typed {last_name}</textarea>" in saved.text
    await Sender.update({Sender.status: "disabled"}).where(Sender.id == world.a.sender_id)
    refused = await post_form(client, "/campaigns/new", {**typed, "template_name": "Another"})
    assert refused.status_code == 422 and "enabled sender IDs" in refused.text


async def test_other_tenants_template_ids_are_404_everywhere(app, client_for):
    world, client, _actor = await session(client_for)
    from tests.core.contacts.helpers import actor_of

    theirs = await template(app, await actor_of(world.b), world.b.sender_id)
    world.b.template_id = theirs.id
    headers = await api_token(client, world.a.end_user_admin)
    assert await foreign_id_responses(app, client, world.b, headers, only={"template_id"}) == {}
    assert (await client.get(f"/campaigns/new?template={theirs.id}")).status_code == 404
    used = await post_form(
        client, "/campaigns/new", {"step": "1", "command": "use_template", "use_template_id": str(theirs.id)}
    )
    assert used.status_code == 404
    assert await MessageTemplate.count() == 1  # B's one, untouched
    row = await MessageTemplate.select().where(MessageTemplate.id == theirs.id).first()
    assert row["name"] == "Welcome"


async def test_a_template_whose_sender_was_disabled_cannot_start_a_campaign(app, client_for):
    world, client, actor = await session(client_for)
    made = await template(app, actor, world.a.sender_id)
    await Sender.update({Sender.status: "disabled"}).where(Sender.id == world.a.sender_id)
    wizard = (await client.get(f"/campaigns/new?template={made.id}")).text
    assert 'data-testid="no-senders"' in wizard and "Hi {first_name}, welcome!</textarea>" in wizard
    fields = {"step": "1", "goto": "2", "channel": "sms", "text": made.text, "template_id": str(made.id)}
    refused = await post_form(client, "/campaigns/new", {**fields, "sender_id": str(world.a.sender_id)})
    assert refused.status_code == 422 and "enabled sender IDs" in refused.text
    assert await Campaign.count() == 0
