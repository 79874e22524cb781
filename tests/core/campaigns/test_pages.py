"""Campaign pages (CMP-1…5): the list with actions and live progress, details, and the wizard's steps and errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.accounts.tables import User
from core.campaigns.tables import Campaign
from core.contacts.fields import create_field
from core.contacts.schemas import FieldIn
from core.senders.tables import Sender
from core.tenancy.tables import Partner
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.contacts.helpers import actor_of
from tests.factories import make_world, post_form, sign_in
from tests.isolation import foreign_id_responses


async def session(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    return world, client, await actor_of(world.a)


def setup_form(world, **changes):
    return {
        "step": "1",
        "goto": "2",
        "name": "Autumn",
        "channel": "sms",
        "sender_id": str(world.a.sender_id),
        "text": "Hi {first_name}, 20% off",
        **changes,
    }


async def test_empty_list_links_to_the_wizard_and_the_menu_has_campaigns(client_for):
    _world, client, _actor = await session(client_for)
    html = (await client.get("/campaigns")).text
    assert "No campaigns yet." in html and 'href="/campaigns/new"' in html
    assert 'href="/campaigns" class="menu-link active"' in html
    assert 'href="/statistics/edr"' in html


async def test_list_shows_columns_actions_and_filters(app, client_for):
    world, client, actor = await session(client_for)
    campaign = await scheduled_campaign(app, actor, world.a)
    await scheduled_campaign(app, actor, world.a, name="Other <b>one</b>")
    html = (await client.get("/campaigns")).text
    assert "Spring sale" in html and "Scheduled" in html and "BrandA" in html
    assert "Not started" in html and "Recipients are counted when the campaign starts" in html  # scheduled
    assert f'data-testid="cancel-{campaign.id}"' in html and f'data-testid="start-{campaign.id}"' in html
    assert 'data-confirm="Delete the campaign Spring sale?"' in html
    assert "Other &lt;b&gt;one&lt;/b&gt;" in html
    assert 'hx-trigger="every 2s"' not in html  # nothing in progress: the table does not poll
    filtered = (await client.get("/campaigns?q=spring&status=scheduled")).text
    assert "Spring sale" in filtered and "Other &lt;b&gt;" not in filtered
    none = (await client.get("/campaigns?status=completed")).text
    assert "No campaign matches these filters." in none
    paged = (await client.get("/campaigns?per_page=10&page_no=1")).text
    assert "Spring sale" in paged
    bad = await client.get("/campaigns?created_from=yesterday")
    assert bad.status_code == 422 and "Not a date" in bad.text


async def test_in_progress_campaigns_make_the_table_poll(app, client_for):
    world, client, actor = await session(client_for)
    campaign = await scheduled_campaign(app, actor, world.a)
    await Campaign.update({Campaign.status: "in_progress", Campaign.total: 10, Campaign.sent: 4}).where(
        Campaign.id == campaign.id
    )
    html = (await client.get("/campaigns")).text
    assert 'hx-trigger="every 2s"' in html and "4 of 10 sent" in html
    fragment = await client.get("/campaigns/table")
    assert fragment.status_code == 200 and "<html" not in fragment.text and "4 of 10 sent" in fragment.text
    assert f'data-testid="pause-{campaign.id}"' in fragment.text


async def test_details_and_actions_with_a_409_reason(app, client_for):
    world, client, actor = await session(client_for)
    campaign = await scheduled_campaign(app, actor, world.a)
    html = (await client.get(f"/campaigns/{campaign.id}")).text
    assert "Spring sale" in html and "Hello {first_name}" in html and 'data-testid="cost-details"' not in html
    assert "Nothing has been charged yet." in html
    response = await post_form(client, f"/campaigns/{campaign.id}/action", {"action": "cancel", "back": "details"})
    assert response.status_code in (302, 303)
    assert (await Campaign.select(Campaign.status).where(Campaign.id == campaign.id).first())["status"] == "canceled"
    refused = await post_form(client, f"/campaigns/{campaign.id}/action", {"action": "pause"})
    assert refused.status_code == 409 and "cannot be paused" in refused.text
    deleted = await post_form(client, f"/campaigns/{campaign.id}/action", {"action": "delete"})
    assert deleted.status_code in (302, 303) and not await Campaign.exists().where(Campaign.id == campaign.id)
    assert (await client.get("/campaigns?done=delete")).text.count("Campaign deleted.") == 1


async def test_wizard_setup_defaults_variables_and_senders(client_for):
    world, client, _actor = await session(client_for)
    html = (await client.get("/campaigns/new")).text
    assert re.search(r'name="name" value="Campaign \d{4}-\d\d-\d\d \d\d:\d\d"', html)
    await User.update({User.language: "es"}).where(User.email == world.a.end_user_admin)
    spanish = (await client.get("/campaigns/new")).text  # the default name is in the user's language too
    assert re.search(r'name="name" value="Campaña \d{4}-\d\d-\d\d \d\d:\d\d"', spanish)
    await User.update({User.language: "en"}).where(User.email == world.a.end_user_admin)
    html = (await client.get("/campaigns/new")).text
    assert 'data-variable="first_name"' in html and 'data-variable="loyalty_level"' in html
    assert "BrandA" in html and 'id="phone-preview"' in html
    assert 'name="flash"' not in html  # the parent has not allowed flash SMS (TEN-3)
    await Partner.update({Partner.options: {"flash_sms": True}}).where(Partner.id == world.a.end_user_id)
    assert 'name="flash"' in (await client.get("/campaigns/new")).text
    await Sender.update({Sender.status: "disabled"}).where(Sender.id == world.a.sender_id)
    none = (await client.get("/campaigns/new")).text
    assert 'data-testid="no-senders"' in none


async def test_wizard_errors_name_the_field_and_keep_the_input(client_for):
    world, client, _actor = await session(client_for)
    no_sender = await post_form(client, "/campaigns/new", setup_form(world, sender_id=""))
    assert no_sender.status_code == 422 and "Choose a sender ID" in no_sender.text
    assert "Hi {first_name}, 20% off" in no_sender.text
    empty = await post_form(client, "/campaigns/new", setup_form(world, text=""))
    assert empty.status_code == 422 and 'class="field-error"' in empty.text and 'name="text"' in empty.text
    unknown = await post_form(client, "/campaigns/new", setup_form(world, text="Hi {nickname}"))
    assert unknown.status_code == 422 and "Unknown variable {nickname}" in unknown.text
    step2 = await post_form(client, "/campaigns/new", setup_form(world))
    assert step2.status_code == 200 and 'name="mode"' in step2.text and "Customers a" in step2.text
    assert "Server count" not in step2.text and 'name="text" value="Hi {first_name}, 20% off"' in step2.text


async def test_wizard_checks_numbers_and_refuses_invalid_ones(client_for):
    world, client, _actor = await session(client_for)
    form = setup_form(
        world, step="2", mode="numbers", numbers_text="612345678\n+34612345678, 12\nabc", country_code="34"
    )
    checked = await post_form(client, "/campaigns/new", {**form, "command": "check", "goto": "2"})
    assert checked.status_code == 200
    found = checked.text[checked.text.index('data-testid="numbers-check"') :]
    assert "1 valid" in found and "2 invalid" in found and "1 duplicates" in found
    refused = await post_form(client, "/campaigns/new", {**form, "goto": "3"})
    assert refused.status_code == 422 and "Invalid number" in refused.text and 'name="numbers_text"' in refused.text
    # Next names every invalid number and offers to go on with the valid ones.
    named = refused.text[refused.text.index('data-testid="numbers-check"') :]
    assert "<code>12</code>" in named and "<code>abc</code>" in named and "go on with 1 valid number" in named
    dropped = await post_form(client, "/campaigns/new", {**form, "command": "drop_invalid"})
    assert dropped.status_code == 200 and 'data-testid="cost-preview"' in dropped.text
    assert 'name="numbers_text" value="+34612345678"' in dropped.text and "1 recipient" in dropped.text
    nobody = await post_form(client, "/campaigns/new", setup_form(world, step="2", mode="groups", goto="3"))
    assert nobody.status_code == 422 and "Choose contact groups or enter at least one number" in nobody.text


async def test_wizard_file_upload_counts_numbers(client_for):
    world, client, _actor = await session(client_for)
    await client.get("/campaigns/new")
    data = {
        **setup_form(world, step="2", mode="file", command="check", goto="2"),
        "_csrf_token": client.cookies["csrftoken"],
    }
    csv = b"Name,Phone\nAna,+34612345678\nBo,+34612345678\nCy,12\n"
    response = await client.post("/campaigns/new", data=data, files={"file": ("list.csv", csv, "text/csv")})
    assert response.status_code == 200, response.text[-500:]
    found = response.text[response.text.index('data-testid="file-check"') :]
    assert "1 valid" in found and "1 invalid" in found and "1 duplicates" in found
    assert 'name="file_numbers" value="34612345678"' in response.text


async def test_wizard_to_a_group_schedules_with_preview_and_refuses_the_past(app, client_for):
    world, client, _actor = await session(client_for)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    base = setup_form(world, step="3", mode="groups", group_ids=str(world.a.group_id), timezone="Europe/Madrid")
    step3 = await post_form(
        client,
        "/campaigns/new",
        {**base, "goto": "3", "send_mode": "later", "send_date": tomorrow, "send_time": "10:00"},
    )
    assert step3.status_code == 200 and 'data-testid="cost-preview"' in step3.text
    assert "1 recipient" in step3.text and 'data-testid="utc"' in step3.text
    # The company's balance is 0 with no credit: the preview warns and offers the top up.
    assert "The cost exceeds what your balance and credit allow (0.00 EUR)" in step3.text
    assert "08:00 UTC" in step3.text or "09:00 UTC" in step3.text  # Madrid is UTC+2 in summer, +1 in winter
    past = await post_form(
        client,
        "/campaigns/new",
        {**base, "command": "send", "send_mode": "later", "send_date": "2020-01-01", "send_time": "10:00"},
    )
    assert past.status_code == 422 and "The scheduled time is in the past" in past.text
    assert 'value="2020-01-01"' in past.text
    sent = await post_form(
        client,
        "/campaigns/new",
        {**base, "command": "send", "send_mode": "later", "send_date": tomorrow, "send_time": "10:00"},
    )
    assert sent.status_code in (302, 303) and "done=scheduled" in sent.headers["location"]
    row = await Campaign.select().where(Campaign.name == "Autumn").first()
    assert row["status"] == "scheduled" and row["group_ids"] and row["timezone"] == "Europe/Madrid"
    assert "Campaign scheduled." in (await client.get(sent.headers["location"])).text


async def test_repeat_prefills_the_wizard(app, client_for):
    world, client, actor = await session(client_for)
    campaign = await scheduled_campaign(app, actor, world.a)
    html = (await client.get(f"/campaigns/new?repeat={campaign.id}")).text
    assert 'value="Spring sale (2)"' in html and "Hello {first_name}</textarea>" in html


async def test_wizard_script_is_served(client_for):
    _world, client, _actor = await session(client_for)
    response = await client.get("/campaigns/wizard.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert "153" in response.text and "67" in response.text


async def test_other_tenants_campaigns_and_edrs_are_404(app, client_for):
    from core.dispatch.tables import Edr

    world = await make_world()
    actor_b = await actor_of(world.b)
    campaign = await scheduled_campaign(app, actor_b, world.b)
    edr = await Edr.insert(
        Edr(
            partner=world.b.end_user_id,
            campaign=campaign.id,
            channel="sms",
            sender="BrandB",
            destination="34612345678",
            status="SENT",
            created_at=datetime.now(UTC),
        )
    ).returning(Edr.id)
    world.b.campaign_id = campaign.id  # type: ignore[attr-defined]
    world.b.edr_id = edr[0]["id"]  # type: ignore[attr-defined]
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    from tests.factories import api_token

    headers = await api_token(client, world.a.end_user_admin)
    leaks = await foreign_id_responses(app, client, world.b, headers, only={"campaign_id", "edr_id", "action"})
    assert leaks == {}
    assert (await Campaign.select(Campaign.status).where(Campaign.id == campaign.id).first())["status"] == "scheduled"


async def test_a_custom_field_name_with_markup_is_text_on_the_wizard(client_for):
    """Stored XSS: a field's name was looked up in the catalogue, whose result Jinja takes as safe markup."""
    _world, client, actor = await session(client_for)
    await create_field(actor, FieldIn(name="\"'><svg onload=alert(1)>"))
    response = await client.get("/campaigns/new")
    assert response.status_code == 200
    assert "<svg" not in response.text and "&#34;&#39;&gt;&lt;svg onload=alert(1)&gt;</button>" in response.text


async def test_a_custom_field_name_with_a_percent_sign_shows_as_is(client_for):
    """The catalogue lookup also %-formatted the name: '%' answered 500."""
    _world, client, actor = await session(client_for)
    await create_field(actor, FieldIn(name="Discount 100%"))
    await create_field(actor, FieldIn(name="Rate %(x)s %d"))
    response = await client.get("/campaigns/new")
    assert response.status_code == 200
    assert ">Discount 100%</button>" in response.text and ">Rate %(x)s %d</button>" in response.text


async def test_custom_field_names_are_not_translated_but_built_in_labels_are(client_for):
    """A field named like a catalogue entry keeps the user's words; the built-in variables speak Spanish."""
    _world, client, actor = await session(client_for)
    field = await create_field(actor, FieldIn(name="Status"))
    await post_form(client, "/language", {"language": "es"})
    html = (await client.get("/campaigns/new")).text
    assert f'data-variable="{field.variable}" title="{{{field.variable}}}">Status</button>' in html
    assert 'data-variable="first_name" title="{first_name}">Nombre</button>' in html


async def test_wizard_sets_quiet_hours_and_a_speed_limit_and_the_preview_counts_who_waits(app, client_for):
    world, client, _actor = await session(client_for)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    base = setup_form(
        world,
        step="3",
        mode="groups",
        group_ids=str(world.a.group_id),
        timezone="Europe/Madrid",
        send_mode="later",
        send_date=tomorrow,
        send_time="10:00",
    )
    half = await post_form(client, "/campaigns/new", {**base, "command": "send", "window_from": "22:00"})
    assert half.status_code == 422 and "Give both ends of the send window, or neither" in half.text
    assert 'name="window_from" value="22:00"' in half.text
    night = {**base, "window_from": "22:00", "window_until": "06:00", "max_per_second": "25"}
    preview = await post_form(client, "/campaigns/new", {**night, "goto": "3"})
    # The group's one contact is in Madrid, where 10:00 is outside 22:00 to 06:00: its message would wait.
    assert preview.status_code == 200 and 'data-testid="waiting"' in preview.text
    assert "1 recipient is outside the send window at the start" in preview.text
    sent = await post_form(client, "/campaigns/new", {**night, "command": "send"})
    assert sent.status_code in (302, 303), sent.text
    row = await Campaign.select().where(Campaign.name == "Autumn").first()
    assert (row["window_from"], row["window_until"], row["rate_limit"]) == (22 * 60, 6 * 60, 25)
    details = await client.get(f"/campaigns/{row['id']}")
    assert "22:00 to 06:00, recipient's local time" in details.text and "25 messages per second" in details.text
    repeat = (await client.get(f"/campaigns/new?repeat={row['id']}")).text
    assert 'name="window_from" value="22:00"' in repeat and 'name="max_per_second" value="25"' in repeat


async def test_the_sample_numbers_file_reads_back_in_the_wizard(client_for):
    world, client, _actor = await session(client_for)
    step2 = await post_form(client, "/campaigns/new", setup_form(world))
    assert 'href="/campaigns/sample-numbers.csv"' in step2.text
    sample = await client.get("/campaigns/sample-numbers.csv")
    assert sample.status_code == 200 and "attachment" in sample.headers["content-disposition"]
    data = {
        **setup_form(world, step="2", mode="file", command="check", goto="2"),
        "_csrf_token": client.cookies["csrftoken"],
    }
    response = await client.post(
        "/campaigns/new", data=data, files={"file": ("sample.csv", sample.content, "text/csv")}
    )
    found = response.text[response.text.index('data-testid="file-check"') :]
    assert "3 valid" in found and "0 invalid" in found


async def test_table_settings_hide_and_order_the_list_columns_for_this_user_only(app, client_for):
    world, client, actor = await session(client_for)
    await scheduled_campaign(app, actor, world.a)
    keys = ["name", "channel", "sender", "status", "progress", "recipients", "cost", "short_link", "created", "actions"]
    shown = [k for k in keys if k != "sender"]
    saved = await post_form(client, "/campaigns/columns", {"columns": keys, "visible": shown, "up": "cost"})
    assert saved.status_code in (302, 303) and "done=columns" in saved.headers["location"]
    html = (await client.get(saved.headers["location"])).text
    head = html[html.index("<thead>") : html.index("</thead>")]
    assert "Sender" not in head and "BrandA" not in html[html.index("<tbody>") :]
    assert head.index("Cost") < head.index("Recipients")  # moved one place up
    assert "Columns saved." in html
    refused = await post_form(client, "/campaigns/columns", {"columns": [*keys, "secret"], "visible": keys})
    assert refused.status_code == 422 and "Unknown column" in refused.text
    empty = await post_form(client, "/campaigns/columns", {"columns": keys})
    assert empty.status_code == 422 and "Keep at least one column visible" in empty.text
    # Another user of the company keeps the default table.
    other = client_for(world.a.host)
    await sign_in(other, world.a.end_user_operator)
    assert "Sender" in (await other.get("/campaigns")).text.split("</thead>")[0]
