"""Contacts workspace pages (CON-1…5, X-2): table, filters, sort, pages, forms, mass actions, groups, stop list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.accounts.services import load_actor
from core.accounts.tables import User
from core.actor import Actor
from core.contacts import groups as groups_service
from core.contacts.fields import create_field
from core.contacts.groups import create_group
from core.contacts.schemas import ContactIn, FieldIn, GroupIn
from core.contacts.services import create_contact
from core.contacts.tables import Contact, ContactBlock, ContactField, ContactGroup, ContactGroupMember, TableSetting
from core.senders.schemas import SenderCreate
from core.senders.services import create_sender
from tests.factories import Tenant, make_world, post_form, sign_in


async def actor_of(email: str, tenant: Tenant) -> Actor:
    user = await User.select(User.id).where(User.email == email).first()
    actor = await load_actor(user["id"], tenant.portal_id)
    assert actor is not None
    return actor


async def end_user_session(client_for, email: str | None = None):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, email or world.a.end_user_admin)
    return world, client, await actor_of(world.a.end_user_admin, world.a)


def total(html: str) -> int:
    match = re.search(r'data-testid="total">(\d+) contacts?<', html)
    assert match, html[-2000:]
    return int(match.group(1))


def row_phones(html: str) -> list[str]:
    return re.findall(r'class="phone">(\d+)</a>', html)


def header_keys(html: str) -> list[str]:
    head = html[html.index("<thead") : html.index("</thead>")]
    return re.findall(r"<th[^>]*>\s*(?:<a[^>]*>)?([^<]+?)(?:<span|</a>|</th>)", head)


async def contacts_of(group_id: int) -> set[int]:
    rows = await ContactGroupMember.select(ContactGroupMember.contact).where(ContactGroupMember.group == group_id)
    return {r["contact"] for r in rows}


async def test_the_menu_and_the_table_list_contacts_with_html_escaped(client_for):
    world, client, actor = await end_user_session(client_for)
    group = await create_group(actor, GroupIn(name="<b>VIP</b> & co"))
    await create_contact(
        actor, ContactIn(phone="34699000001", groups=[group.id], first_name="<script>alert(1)</script>")
    )
    html = (await client.get("/contacts")).text
    assert 'href="/contacts" class="menu-link active"' in html
    assert total(html) == 2 and set(row_phones(html)) == {"34699000001", "34612345007"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "&lt;b&gt;VIP&lt;/b&gt; &amp; co" in html and "<b>VIP</b>" not in html
    assert header_keys(html)[:6] == ["Phone", "Groups", "Created", "Last updated", "First name", "Last name"]
    # The other tenant's contact never shows.
    assert "34612345008" not in html
    operator = client_for(world.a.host)
    await sign_in(operator, world.a.end_user_operator)
    assert 'href="/contacts"' in (await operator.get("/")).text


async def test_empty_states_say_what_to_do(client_for):
    _world, client, actor = await end_user_session(client_for)
    await Contact.delete().where(Contact.partner == actor.partner_id)
    html = (await client.get("/contacts")).text
    assert "No contacts yet — add one or import a file." in html and 'href="/contacts/import"' in html
    filtered = (await client.get("/contacts?first_name=nobody")).text
    assert "Nothing matches these filters." in filtered
    assert "The stop list is empty" in (await client.get("/contacts/stoplist")).text


async def test_every_kind_of_filter_narrows_the_table(client_for):
    world, client, actor = await end_user_session(client_for)
    other = await create_group(actor, GroupIn(name="Madrid"))
    city = await create_field(actor, FieldIn(name="City"))
    tier = await create_field(actor, FieldIn(name="Tier", data_type="list", choices=["gold", "silver"]))
    await create_contact(
        actor,
        ContactIn(
            phone="34699111222",
            groups=[other.id],
            first_name="Lana",
            last_name="Ridden",
            gender="female",
            comments="Prefers evenings",
            custom={city.variable: "Sevilla", tier.variable: "gold"},
            blocked_senders=[world.a.sender_id],
        ),
    )
    await create_contact(
        actor, ContactIn(phone="34699333444", groups=[world.a.group_id], gender="male", blocked_all=True)
    )
    today = datetime.now(UTC).date()
    cases = {
        "phone=111": 1,
        "phone=%2B34+699": 2,
        "first_name=lan": 1,
        "last_name=RIDD": 1,
        "comments=evening": 1,
        "gender=female": 1,
        "gender=male": 1,
        f"group_id={other.id}": 1,
        f"group_id={world.a.group_id}": 2,
        f"blocked_sender_id={world.a.sender_id}": 1,
        "blocked=1": 2,
        f"created_from={today}": 3,
        f"created_from={today + timedelta(days=1)}": 0,
        f"created_to={today - timedelta(days=1)}": 0,
        f"updated_from={today}&updated_to={today}": 3,
        f"custom.{city.variable}=sevil": 1,
        f"custom.{tier.variable}=gold": 1,
        f"group_id={world.a.group_id}&gender=male": 1,
    }
    for query, expected in cases.items():
        response = await client.get(f"/contacts?{query}")
        assert response.status_code == 200, (query, response.text[-500:])
        assert total(response.text) == expected, query
    # The filter form keeps what was asked, and "More filters" opens when one of them is in use.
    html = (await client.get("/contacts?first_name=lan&gender=female")).text
    assert 'name="first_name" value="lan"' in html and '<option value="female" selected>' in html
    assert '<details class="filter-more" open>' in html
    bad = await client.get("/contacts?created_from=yesterday")
    assert bad.status_code in (400, 422) and "created_from" in bad.text and total(bad.text) == 3


async def test_sort_by_headers_and_server_side_pages_with_rows_per_page(client_for):
    world, client, actor = await end_user_session(client_for)
    for n in range(24):
        await create_contact(
            actor, ContactIn(phone=f"3469900{n:04d}", groups=[world.a.group_id], last_name=f"Name {99 - n:02d}")
        )
    first = await client.get("/contacts?per_page=20&sort=phone&descending=0")
    phones = row_phones(first.text)
    assert len(phones) == 20 and phones == sorted(phones) and phones[0] == "34612345007"
    assert "Showing 1–20 of 25" in first.text and 'aria-current="page">1<' in first.text  # noqa: RUF001
    assert 'href="/contacts?sort=phone&amp;descending=0&amp;page=2&amp;per_page=20"' in first.text
    past = (await client.get("/contacts?per_page=20&page=9")).text
    assert "past the end" in past and 'href="/contacts?per_page=20"' in past
    second = await client.get("/contacts?per_page=20&sort=phone&descending=0&page=2")
    assert len(row_phones(second.text)) == 5 and "Showing 21–25 of 25" in second.text  # noqa: RUF001
    by_name = row_phones((await client.get("/contacts?sort=last_name&descending=0&per_page=50")).text)
    assert by_name[:2] == ["34612345007", "34699000023"] and by_name[-1] == "34699000000"
    descending = row_phones((await client.get("/contacts?sort=phone&descending=1")).text)
    assert descending[0] == "34699000023"
    # The sorted header links to the other direction; unsortable columns (groups) have no link.
    html = first.text
    assert 'aria-sort="ascending"' in html and 'href="/contacts?sort=phone&amp;per_page=20"' in html
    assert 'href="/contacts?sort=groups' not in html
    for size in (20, 50, 100, 200):
        assert f"<option {'selected' if size == 20 else ''}>{size}</option>" in html


async def test_add_contact_form_names_the_field_keeps_the_values_and_refuses_duplicates(client_for):
    world, client, actor = await end_user_session(client_for)
    form = await client.get("/contacts/new")
    assert "Customers a" in form.text and "BrandA" in form.text and "Loyalty level" in form.text
    bad_phone = await post_form(
        client, "/contacts", {"phone": "34699abc", "groups": str(world.a.group_id), "first_name": "Lana"}
    )
    assert bad_phone.status_code == 422 and 'class="field-error"' in bad_phone.text
    assert 'value="34699abc"' in bad_phone.text and 'value="Lana"' in bad_phone.text
    no_group = await post_form(client, "/contacts", {"phone": "34699111222", "last_name": "Ridden"})
    assert no_group.status_code in (400, 422) and "groups" in no_group.text and 'value="Ridden"' in no_group.text
    duplicate = await post_form(client, "/contacts", {"phone": "+34 612 345 007", "groups": str(world.a.group_id)})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    created = await post_form(
        client,
        "/contacts",
        {
            "phone": "+34 699 111 222",
            "groups": str(world.a.group_id),
            "first_name": "Lana",
            "birth_date": "2000-11-14",
            "gender": "female",
            "comments": "VIP",
            "custom.loyalty_level": "gold",
            "blocked_senders": str(world.a.sender_id),
            "back": "/contacts?sort=phone",
        },
    )
    assert created.status_code in (302, 303), created.text
    assert created.headers["location"] == "/contacts?sort=phone&done=created&n=1"
    assert "Contact added." in (await client.get(created.headers["location"])).text
    row = await Contact.select().where(Contact.phone == "34699111222").first()
    assert row["first_name"] == "Lana" and str(row["birth_date"]) == "2000-11-14" and row["created_by"]
    assert await ContactBlock.count().where(ContactBlock.contact == row["id"]) == 1
    assert await Contact.count().where(Contact.partner == actor.partner_id) == 2


async def test_edit_contact_changes_every_field_and_clears_values(client_for):
    world, client, actor = await end_user_session(client_for)
    second = await create_group(actor, GroupIn(name="Second"))
    url = f"/contacts/{world.a.contact_id}"
    page = (await client.get(url)).text
    assert 'value="34612345007"' in page and 'value="Client a"' in page
    saved = await post_form(
        client,
        url,
        {
            "phone": "34612345007",
            "groups": [str(world.a.group_id), str(second.id)],
            "first_name": "Renamed",
            "custom.loyalty_level": "silver",
            "blocked_all": "on",
        },
    )
    assert saved.status_code in (302, 303), saved.text
    row = await Contact.select().where(Contact.id == world.a.contact_id).first()
    assert row["first_name"] == "Renamed" and row["blocked_all"] and "silver" in str(row["custom"])
    assert await contacts_of(second.id) == {world.a.contact_id}
    page = (await client.get(url)).text
    assert 'name="blocked_all" checked' in page and 'value="silver"' in page
    cleared = await post_form(
        client, url, {"phone": "34612345007", "groups": str(second.id), "custom.loyalty_level": ""}
    )
    assert cleared.status_code in (302, 303)
    row = await Contact.select().where(Contact.id == world.a.contact_id).first()
    assert "silver" not in str(row["custom"]) and not row["blocked_all"]
    taken = await create_contact(actor, ContactIn(phone="34699000555", groups=[second.id]))
    clash = await post_form(client, f"/contacts/{taken.id}", {"phone": "34612345007", "groups": str(second.id)})
    assert clash.status_code == 409 and 'value="34612345007"' in clash.text
    assert (await client.get(f"/contacts/{world.b.contact_id}")).status_code == 404


async def bulk(client, action: str, data: dict[str, object]):
    return await post_form(client, "/contacts/bulk", {"action": action, "confirm": "1", "back": "/contacts", **data})


async def test_mass_actions_on_selected_rows(client_for):
    world, client, actor = await end_user_session(client_for)
    target = await create_group(actor, GroupIn(name="Target"))
    ids = [
        (await create_contact(actor, ContactIn(phone=f"3469900000{n}", groups=[world.a.group_id]))).id for n in range(3)
    ]
    picked = [str(i) for i in ids[:2]]
    confirm = await post_form(client, "/contacts/bulk", {"action": "add", "ids": picked, "back": "/contacts"})
    assert confirm.status_code == 200 and "2 selected contacts" in confirm.text and "Target" in confirm.text
    assert await contacts_of(target.id) == set()
    added = await bulk(client, "add", {"ids": picked, "target_group": str(target.id)})
    assert added.status_code in (302, 303) and added.headers["location"] == "/contacts?done=add&n=2"
    assert "2 contacts added to the group." in (await client.get(added.headers["location"])).text
    assert await contacts_of(target.id) == set(ids[:2])
    removed = await bulk(client, "remove", {"ids": picked, "target_group": str(world.a.group_id)})
    assert removed.status_code in (302, 303)
    assert ids[0] not in await contacts_of(world.a.group_id)
    last_group = await bulk(client, "remove", {"ids": picked, "target_group": str(target.id)})
    assert last_group.status_code == 409 and "without a group" in last_group.text
    moved = await bulk(client, "move", {"ids": [str(ids[2])], "target_group": str(target.id)})
    assert moved.status_code in (302, 303) and await contacts_of(target.id) == set(ids)
    no_group = await bulk(client, "move", {"ids": [str(ids[2])]})
    assert no_group.status_code == 422 and "Choose a group" in no_group.text
    blocked = await bulk(client, "block", {"ids": picked, "sender_ids": str(world.a.sender_id)})
    assert blocked.status_code in (302, 303)
    assert await ContactBlock.count().where(ContactBlock.contact.is_in(ids[:2])) == 2
    nothing = await bulk(client, "block", {"ids": picked})
    assert nothing.status_code == 422 and "sender IDs" in nothing.text
    deleted = await bulk(client, "delete", {"ids": [str(ids[0])]})
    assert deleted.status_code in (302, 303) and not await Contact.exists().where(Contact.id == ids[0])
    nothing_picked = await bulk(client, "delete", {})
    assert nothing_picked.status_code == 422 and "Select at least one contact" in nothing_picked.text


async def test_mass_actions_on_all_matching_rows_follow_the_filter(client_for):
    world, client, actor = await end_user_session(client_for)
    target = await create_group(actor, GroupIn(name="Target"))
    for n in range(5):
        await create_contact(
            actor, ContactIn(phone=f"3469900000{n}", groups=[world.a.group_id], first_name="Bulk" if n < 4 else "")
        )
    listing = (await client.get("/contacts?first_name=bulk&per_page=20")).text
    assert "Select all 4 matching" not in listing  # every match fits on the page: ticking the page is enough
    small_page = (await client.get("/contacts?first_name=bulk&per_page=2")).text
    assert "Select all 4 matching" in small_page and 'name="first_name" value="bulk"' in small_page
    confirm = await client.get("/contacts/bulk?action=move&all_matching=1&first_name=bulk&back=/contacts")
    assert "All 4 contacts matching the filter" in confirm.text
    moved = await bulk(
        client, "move", {"all_matching": "1", "first_name": "bulk", "ids": "999999", "target_group": str(target.id)}
    )
    assert moved.status_code in (302, 303) and moved.headers["location"].endswith("done=move&n=4")
    assert len(await contacts_of(target.id)) == 4
    blocked = await bulk(client, "block", {"all_matching": "1", "group_id": str(target.id), "all_senders": "on"})
    assert blocked.status_code in (302, 303)
    assert await Contact.count().where(Contact.blocked_all == True) == 4  # noqa: E712
    deleted = await bulk(client, "delete", {"all_matching": "1", "first_name": "bulk"})
    assert deleted.status_code in (302, 303)
    assert await Contact.count().where(Contact.partner == actor.partner_id) == 2


async def test_foreign_ids_in_a_selection_are_missing_ids(client_for):
    world, client, _actor = await end_user_session(client_for)
    for action, extra in (("delete", {}), ("add", {"target_group": str(world.a.group_id)})):
        response = await bulk(client, action, {"ids": [str(world.a.contact_id), str(world.b.contact_id)], **extra})
        assert response.status_code == 404, action
    assert (await client.get(f"/contacts/bulk?action=add&ids={world.b.contact_id}")).status_code == 404
    foreign_group = await bulk(client, "add", {"ids": str(world.a.contact_id), "target_group": str(world.b.group_id)})
    assert foreign_group.status_code == 404
    assert await Contact.count() == 2 and await contacts_of(world.b.group_id) == {world.b.contact_id}


async def test_operators_see_no_delete_and_the_service_refuses_it(client_for):
    world, client, _actor = await end_user_session(client_for, "op@a.test")
    html = (await client.get("/contacts")).text
    assert 'value="delete"' not in html and "action=delete" not in html and "Move to stop list" in html
    refused = await bulk(client, "delete", {"ids": str(world.a.contact_id)})
    assert refused.status_code == 403 and "Operators cannot delete contacts" in refused.text
    assert await Contact.exists().where(Contact.id == world.a.contact_id)
    fields = (await client.get("/contacts/settings")).text
    assert f"/contacts/fields/{world.a.field_id}/delete" not in fields
    assert (await post_form(client, f"/contacts/fields/{world.a.field_id}/delete")).status_code == 403
    assert await ContactField.exists().where(ContactField.id == world.a.field_id)
    groups = (await client.get("/contacts/groups")).text
    assert f"/contacts/groups/{world.a.group_id}/delete" not in groups
    admin = client_for(world.a.host)
    await sign_in(admin, world.a.end_user_admin)
    assert 'value="delete"' in (await admin.get("/contacts")).text


async def test_table_settings_order_and_visibility_persist_per_user_and_shape_the_table(client_for):
    world, client, _actor = await end_user_session(client_for)
    settings = (await client.get("/contacts/settings")).text
    assert settings.index('value="phone"') < settings.index('value="groups"') < settings.index('value="comments"')
    assert 'name="visible" value="comments" >' in settings or 'name="visible" value="comments">' in settings
    order = ["last_name", "phone", "comments", "groups", "first_name"]
    saved = await post_form(
        client, "/contacts/settings", {"columns": order, "visible": ["last_name", "phone", "comments"]}
    )
    assert saved.status_code in (302, 303) and saved.headers["location"] == "/contacts/settings?done=columns"
    html = (await client.get("/contacts")).text
    assert header_keys(html)[:3] == ["Last name", "Phone", "Comments"] and "Groups" not in header_keys(html)
    # Columns left out of the form (and custom fields) follow with their defaults.
    keys = re.findall(r'name="columns" value="([^"]+)"', (await client.get("/contacts/settings")).text)
    assert keys[:5] == order and "loyalty_level" in keys and len(keys) == len(set(keys)) == 12
    moved = await post_form(client, "/contacts/settings", {"columns": keys, "visible": ["phone"], "down": "last_name"})
    assert moved.status_code in (302, 303)
    assert header_keys((await client.get("/contacts")).text) == ["Phone"]
    keys = re.findall(r'name="columns" value="([^"]+)"', (await client.get("/contacts/settings")).text)
    assert keys[:2] == ["phone", "last_name"]
    # Another user of the same company keeps the defaults.
    other = client_for(world.a.host)
    await sign_in(other, world.a.end_user_operator)
    assert header_keys((await other.get("/contacts")).text)[:2] == ["Phone", "Groups"]
    assert await TableSetting.count() == 1
    for bad in ({"columns": ["phone", "nope"], "visible": ["phone"]}, {"columns": ["phone"], "visible": []}):
        refused = await post_form(client, "/contacts/settings", bad)
        assert refused.status_code == 422 and 'class="alert alert-error"' in refused.text


async def test_custom_fields_create_edit_delete_and_system_columns_stay(client_for):
    world, client, _actor = await end_user_session(client_for)
    preview = await client.get("/contacts/fields/variable?name=Loyalty Level %232 <b>")
    assert preview.text == "{loyalty_level_2_b}"
    created = await post_form(client, "/contacts/fields", {"name": "Favourite Shop", "data_type": "text"})
    assert created.status_code in (302, 303)
    field = await ContactField.select().where(ContactField.name == "Favourite Shop").first()
    assert field["variable"] == "favourite_shop"
    page = (await client.get("/contacts/settings")).text
    assert "{favourite_shop}" in page and "Field created." in (await client.get(created.headers["location"])).text
    assert "Favourite Shop" in header_keys((await client.get("/contacts")).text)
    listed = await post_form(
        client, "/contacts/fields", {"name": "Tier", "data_type": "list", "choices": "gold\nsilver"}
    )
    assert listed.status_code in (302, 303)
    no_choices = await post_form(client, "/contacts/fields", {"name": "Size", "data_type": "list"})
    assert no_choices.status_code == 422 and "choice" in no_choices.text and 'value="Size"' in no_choices.text
    built_in = await post_form(client, "/contacts/fields", {"name": "Phone", "data_type": "text"})
    assert built_in.status_code == 409 and "built-in column" in built_in.text
    twice = await post_form(client, "/contacts/fields", {"name": "favourite shop!", "data_type": "text"})
    assert twice.status_code == 409 and "{favourite_shop}" in twice.text
    edited = await post_form(client, f"/contacts/fields/{field['id']}", {"name": "Shop", "required": "on"})
    assert edited.status_code in (302, 303)
    row = await ContactField.select().where(ContactField.id == field["id"]).first()
    assert row["name"] == "Shop" and row["required"] and row["variable"] == "favourite_shop"
    required = await post_form(client, "/contacts", {"phone": "34699000123", "groups": str(world.a.group_id)})
    assert required.status_code == 422 and "Shop is required" in required.text
    # System columns have no edit or delete form; only custom fields do.
    page = (await client.get("/contacts/settings")).text
    assert len(re.findall(r'action="/contacts/fields/\d+/delete"', page)) == 3
    deleted = await post_form(client, f"/contacts/fields/{field['id']}/delete")
    assert deleted.status_code in (302, 303) and not await ContactField.exists().where(ContactField.id == field["id"])
    assert "Shop" not in header_keys((await client.get("/contacts")).text)


async def test_groups_list_search_pages_create_edit_and_delete_refusals(client_for):
    world, client, actor = await end_user_session(client_for)
    for n in range(22):
        await create_group(actor, GroupIn(name=f"Group {n:02d}"))
    page = (await client.get("/contacts/groups?per_page=20")).text
    assert "Customers a" in page and "Group 18" in page and "Group 19" not in page and "page_no=2" in page
    assert "Group 19" in (await client.get("/contacts/groups?per_page=20&page_no=2")).text
    found = (await client.get("/contacts/groups?q=group 0")).text
    assert "Group 05" in found and "Customers a" not in found and "Group 15" not in found
    counts = (await client.get("/contacts/groups?q=customers")).text
    assert f'href="/contacts?group_id={world.a.group_id}"' in counts and ">1</a>" in counts
    created = await post_form(client, "/contacts/groups", {"name": "<i>New</i>", "description": "Fresh"})
    assert (
        created.status_code in (302, 303) and "Group created." in (await client.get(created.headers["location"])).text
    )
    assert "&lt;i&gt;New&lt;/i&gt;" in (await client.get("/contacts/groups?q=new")).text
    duplicate = await post_form(client, "/contacts/groups", {"name": "customers A"})
    assert (
        duplicate.status_code == 409 and "already exists" in duplicate.text and 'value="customers A"' in duplicate.text
    )
    new = await ContactGroup.select().where(ContactGroup.name == "<i>New</i>").first()
    clash = await post_form(client, f"/contacts/groups/{new['id']}", {"name": "Group 01", "description": ""})
    assert clash.status_code == 409
    renamed = await post_form(client, f"/contacts/groups/{new['id']}", {"name": "Renamed", "description": "Again"})
    assert renamed.status_code in (302, 303)
    assert (await ContactGroup.select().where(ContactGroup.id == new["id"]).first())["description"] == "Again"
    only_group = await post_form(client, f"/contacts/groups/{world.a.group_id}/delete")
    assert only_group.status_code == 409 and "only in this group" in only_group.text
    groups_service.DELETE_GUARDS.append(_used_by_a_reply_template)
    try:
        guarded = await post_form(client, f"/contacts/groups/{new['id']}/delete")
    finally:
        groups_service.DELETE_GUARDS.remove(_used_by_a_reply_template)
    assert guarded.status_code == 409 and "used by the reply template" in guarded.text
    deleted = await post_form(client, f"/contacts/groups/{new['id']}/delete")
    assert deleted.status_code in (302, 303) and not await ContactGroup.exists().where(ContactGroup.id == new["id"])
    assert "Export XLSX" in page and f"/contacts/groups/{world.a.group_id}/export" in page


async def _used_by_a_reply_template(group_id: int) -> str | None:
    return "This group is used by the reply template “Welcome”"


async def test_move_copy_and_remove_a_groups_members(client_for):
    world, client, actor = await end_user_session(client_for)
    source = await create_group(actor, GroupIn(name="Source"))
    target = await create_group(actor, GroupIn(name="Target"))
    both = await create_contact(actor, ContactIn(phone="34699000001", groups=[source.id, world.a.group_id]))
    only = await create_contact(actor, ContactIn(phone="34699000002", groups=[source.id]))
    page = (await client.get(f"/contacts/groups/{source.id}/members?action=copy")).text
    assert 'value="copy" checked' in page and "Target" in page and f'value="{source.id}"' not in page
    url = f"/contacts/groups/{source.id}/members"
    copied = await post_form(client, url, {"action": "copy", "target_group": str(target.id)})
    assert copied.status_code in (302, 303) and copied.headers["location"].endswith("done=members_copy&n=2")
    assert await contacts_of(target.id) == {both.id, only.id} and await contacts_of(source.id) == {both.id, only.id}
    no_target = await post_form(client, url, {"action": "move"})
    assert no_target.status_code == 422 and "Choose a group" in no_target.text
    await post_form(client, f"/contacts/groups/{target.id}/members", {"action": "remove"})
    assert await contacts_of(target.id) == set()
    refused = await post_form(client, url, {"action": "remove"})
    assert refused.status_code == 409 and "without a group" in refused.text
    moved = await post_form(client, url, {"action": "move", "target_group": str(target.id)})
    assert moved.status_code in (302, 303)
    assert await contacts_of(source.id) == set() and await contacts_of(target.id) == {both.id, only.id}


async def test_stop_list_tab_lists_blocks_adds_numbers_and_removes_blocks(client_for):
    world, client, actor = await end_user_session(client_for)
    owner_sender = await create_sender(world.owner, world.a.end_user_id, SenderCreate(channel="viber", name="ViberA"))
    free = await create_contact(actor, ContactIn(phone="34699000001", groups=[world.a.group_id], first_name="Free"))
    all_blocked = await create_contact(
        actor, ContactIn(phone="34699000002", groups=[world.a.group_id], blocked_all=True)
    )
    stop = (await client.get("/contacts/stoplist")).text
    assert total(stop) == 1 and "All sender IDs" in stop and "34699000001" not in stop
    # The tab always shows the blocked sender IDs, next to the first column, whatever the table settings say.
    assert header_keys(stop)[:3] == ["Phone", "Blocked sender IDs", "Groups"]
    await post_form(client, "/contacts/settings", {"columns": ["first_name", "phone"], "visible": ["first_name"]})
    shown = header_keys((await client.get("/contacts/stoplist")).text)
    assert shown[:2] == ["First name", "Blocked sender IDs"] and "Phone" not in shown
    assert "Blocked sender IDs" not in header_keys((await client.get("/contacts")).text)
    assert 'aria-current="page">Stop List<' in stop
    found = (await client.get("/contacts/stoplist/add?phone=0001")).text
    assert "34699000001" in found and "34699000002" not in found and "ViberA" in found
    added = await bulk(
        client,
        "block",
        {
            "ids": str(free.id),
            "sender_ids": [str(world.a.sender_id), str(owner_sender.id)],
            "back": "/contacts/stoplist",
        },
    )
    assert added.status_code in (302, 303) and added.headers["location"] == "/contacts/stoplist?done=block&n=1"
    stop = (await client.get(added.headers["location"])).text
    assert total(stop) == 2 and "BrandA" in stop and "ViberA" in stop and "1 contact added to the stop list." in stop
    # Blocks merge: adding one more keeps the others.
    await bulk(client, "block", {"ids": str(free.id), "sender_ids": str(world.a.sender_id)})
    assert await ContactBlock.count().where(ContactBlock.contact == free.id) == 2
    confirm = (await client.get(f"/contacts/bulk?action=unblock&ids={free.id}&back=/contacts/stoplist")).text
    assert "Blocked now:" in confirm and "ViberA" in confirm
    one = await bulk(client, "unblock", {"ids": str(free.id), "sender_ids": str(owner_sender.id)})
    assert one.status_code in (302, 303)
    assert await ContactBlock.count().where(ContactBlock.contact == free.id) == 1
    every = await bulk(client, "unblock", {"ids": [str(free.id), str(all_blocked.id)], "all_senders": "on"})
    assert every.status_code in (302, 303)
    assert total((await client.get("/contacts/stoplist")).text) == 0
    assert await Contact.count().where(Contact.partner == actor.partner_id) == 3
