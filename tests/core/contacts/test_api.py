"""Contacts REST API (CON-1…5): the same services as the pages, with every rule and refusal visible."""

from __future__ import annotations

from core.contacts.stoplist import blocked
from core.contacts.tables import Contact, ContactBlock, ContactGroupMember
from tests.factories import api_token, make_world


async def end_user(client_for, world, email=None):
    client = client_for(world.a.host)
    return client, await api_token(client, email or world.a.end_user_admin)


async def test_create_contact_normalises_the_phone_and_refuses_duplicates(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world)
    created = await client.post(
        "/api/contacts",
        headers=headers,
        json={
            "phone": "+34 (699) 111-222",
            "groups": [world.a.group_id],
            "first_name": "Ana",
            "birth_date": "1990-04-02",
            "gender": "female",
            "custom": {"loyalty_level": "gold"},
            "blocked_senders": [world.a.sender_id],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["phone"] == "34699111222" and body["groups"] == [{"id": world.a.group_id, "name": "Customers a"}]
    assert body["blocked_senders"][0]["name"] == "BrandA" and body["created_by"] == world.a.end_user_admin
    dup = await client.post(
        "/api/contacts", headers=headers, json={"phone": "0034699111222", "groups": [world.a.group_id]}
    )
    assert dup.status_code == 409 and dup.json()["field"] == "phone"


async def test_bad_contacts_name_the_field_and_store_nothing(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world)
    before = await Contact.count()
    cases = [
        ({"phone": "34699abc111", "groups": [world.a.group_id]}, "phone", 422),
        ({"phone": "123", "groups": [world.a.group_id]}, "phone", 422),
        ({"phone": "34699111222", "groups": []}, "groups", 400),
        ({"phone": "34699111222"}, "groups", 400),
        ({"phone": "34699111222", "groups": [world.a.group_id], "gender": "robot"}, "gender", 400),
        ({"phone": "34699111222", "groups": [world.a.group_id], "custom": {"nope": "x"}}, "custom.nope", 422),
        ({"phone": "34699111222", "groups": [world.a.group_id], "first_name": "x" * 101}, "first_name", 400),
    ]
    for body, field, status in cases:
        response = await client.post("/api/contacts", headers=headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert field in (response.json().get("field") or "") + response.json()["detail"], response.json()
    assert await Contact.count() == before


async def test_foreign_groups_and_senders_are_missing_ids(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world)
    response = await client.post(
        "/api/contacts", headers=headers, json={"phone": "34699111222", "groups": [world.b.group_id]}
    )
    assert response.status_code == 404
    response = await client.post(
        "/api/contacts",
        headers=headers,
        json={"phone": "34699111222", "groups": [world.a.group_id], "blocked_senders": [world.b.sender_id]},
    )
    assert response.status_code == 404
    listed = (await client.get("/api/contacts", headers=headers)).json()
    assert [c["phone"] for c in listed["items"]] == ["34612345007"]
    assert (await client.get(f"/api/contacts?group_id={world.b.group_id}", headers=headers)).json()["total"] == 0


async def test_filters_sort_and_pages(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world)
    for i in range(12):
        await client.post(
            "/api/contacts",
            headers=headers,
            json={
                "phone": f"3469911{i:04d}",
                "groups": [world.a.group_id],
                "first_name": f"Name{i:02d}",
                "last_name": "Odd" if i % 2 else "Even",
                "custom": {"loyalty_level": "gold" if i < 3 else "silver"},
            },
        )
    page = (
        await client.get("/api/contacts?sort=first_name&descending=false&per_page=5&page=2", headers=headers)
    ).json()
    assert page["total"] == 13 and [c["first_name"] for c in page["items"]] == [f"Name{i:02d}" for i in range(4, 9)]
    odd = (await client.get("/api/contacts?last_name=odd", headers=headers)).json()
    assert odd["total"] == 6
    gold = (await client.get("/api/contacts?custom.loyalty_level=gold", headers=headers)).json()
    assert gold["total"] == 3
    by_phone = (await client.get("/api/contacts?phone=%2B34 699 110 011", headers=headers)).json()
    assert [c["phone"] for c in by_phone["items"]] == ["34699110011"]
    bad = await client.get("/api/contacts?sort=password", headers=headers)
    assert bad.status_code == 422 and "sort" in bad.json()["detail"]
    unknown = await client.get("/api/contacts?custom.secret=x", headers=headers)
    assert unknown.status_code == 422


async def test_groups_unique_names_moves_and_the_last_group_rule(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world)
    vip = (await client.post("/api/groups", headers=headers, json={"name": "VIP"})).json()
    dup = await client.post("/api/groups", headers=headers, json={"name": "vip"})
    assert dup.status_code == 409 and dup.json()["field"] == "name"
    moved = await client.post(
        "/api/contacts/group-action",
        headers=headers,
        json={"selection": {"ids": [world.a.contact_id]}, "group_id": vip["id"], "action": "move"},
    )
    assert moved.json() == {"contacts": 1}
    groups = {
        m["group"] for m in await ContactGroupMember.select().where(ContactGroupMember.contact == world.a.contact_id)
    }
    assert groups == {vip["id"]}
    orphan = await client.post(
        "/api/contacts/group-action",
        headers=headers,
        json={"selection": {"ids": [world.a.contact_id]}, "group_id": vip["id"], "action": "remove"},
    )
    assert orphan.status_code == 409 and "without a group" in orphan.json()["detail"]
    assert await ContactGroupMember.count().where(ContactGroupMember.contact == world.a.contact_id) == 1
    refused = await client.delete(f"/api/groups/{vip['id']}", headers=headers)
    assert refused.status_code == 409 and "only in this group" in refused.json()["detail"]
    copied = await client.post(
        "/api/contacts/group-action",
        headers=headers,
        json={"selection": {"all_matching": True, "filter": {}}, "group_id": world.a.group_id, "action": "add"},
    )
    assert copied.json() == {"contacts": 1}
    assert (await client.delete(f"/api/groups/{vip['id']}", headers=headers)).status_code == 204
    counts = {g["name"]: g["contacts"] for g in (await client.get("/api/groups", headers=headers)).json()["items"]}
    assert counts == {"Customers a": 1}


async def test_stop_list_merges_blocks_and_dispatch_asks_set_wise(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world)
    owner = client_for(world.owner_host)
    owner_headers = await api_token(owner, "owner@main.test")
    second = (
        await owner.post(
            f"/api/admin/partners/{world.a.end_user_id}/senders",
            headers=owner_headers,
            json={"channel": "viber", "name": "ShopViber"},
        )
    ).json()
    selection = {"ids": [world.a.contact_id]}
    await client.post(
        "/api/stoplist/block", headers=headers, json={"selection": selection, "sender_ids": [world.a.sender_id]}
    )
    await client.post(
        "/api/stoplist/block", headers=headers, json={"selection": selection, "sender_ids": [second["id"]]}
    )
    assert await ContactBlock.count().where(ContactBlock.contact == world.a.contact_id) == 2  # merged
    listed = (await client.get("/api/stoplist", headers=headers)).json()
    assert listed["total"] == 1 and {s["name"] for s in listed["items"][0]["blocked_senders"]} == {
        "BrandA",
        "ShopViber",
    }
    numbers = ["34612345007", "34600000000", "not-a-contact"]
    assert await blocked(world.a.end_user_id, world.a.sender_id, numbers) == {"34612345007"}
    assert await blocked(world.b.end_user_id, world.a.sender_id, numbers) == set()  # other partner, same number
    await client.post(
        "/api/stoplist/unblock", headers=headers, json={"selection": selection, "sender_ids": [world.a.sender_id]}
    )
    assert await blocked(world.a.end_user_id, world.a.sender_id, numbers) == set()
    assert await blocked(world.a.end_user_id, second["id"], numbers) == {"34612345007"}
    assert await blocked(world.a.end_user_id, None, numbers) == set()  # no "all sender IDs" block yet
    await client.post("/api/stoplist/block", headers=headers, json={"selection": selection, "all_senders": True})
    assert await blocked(world.a.end_user_id, world.a.sender_id, numbers) == {"34612345007"}
    assert await blocked(world.a.end_user_id, None, numbers) == {"34612345007"}
    empty = await client.post("/api/stoplist/block", headers=headers, json={"selection": selection})
    assert empty.status_code == 422 and empty.json()["field"] == "sender_ids"


async def test_custom_fields_variables_types_and_required(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world)
    field = await client.post(
        "/api/contact-fields", headers=headers, json={"name": "Date of Visit", "data_type": "date", "required": True}
    )
    assert field.status_code == 201 and field.json()["variable"] == "date_of_visit"
    system = await client.post("/api/contact-fields", headers=headers, json={"name": "Phone"})
    assert system.status_code == 409
    missing = await client.post(
        "/api/contacts", headers=headers, json={"phone": "34699222333", "groups": [world.a.group_id]}
    )
    assert missing.status_code == 422 and "Date of Visit is required" in missing.json()["detail"]
    wrong = await client.post(
        "/api/contacts",
        headers=headers,
        json={"phone": "34699222333", "groups": [world.a.group_id], "custom": {"date_of_visit": "soon"}},
    )
    assert wrong.status_code == 422 and "not a date" in wrong.json()["detail"]
    renamed = await client.patch(
        f"/api/contact-fields/{field.json()['id']}", headers=headers, json={"name": "Visit", "required": False}
    )
    assert renamed.json()["variable"] == "date_of_visit" and not renamed.json()["required"]
    no_type_change = await client.patch(
        f"/api/contact-fields/{field.json()['id']}", headers=headers, json={"data_type": "text"}
    )
    assert no_type_change.status_code == 400


async def test_operators_cannot_delete_and_deletes_cascade(client_for):
    world = await make_world()
    client, headers = await end_user(client_for, world, world.a.end_user_operator)
    refused = await client.delete(f"/api/contacts/{world.a.contact_id}", headers=headers)
    assert refused.status_code == 403 and await Contact.exists().where(Contact.id == world.a.contact_id)
    admin, admin_headers = await end_user(client_for, world)
    deleted = await admin.post(
        "/api/contacts/delete", headers=admin_headers, json={"ids": [world.a.contact_id, world.b.contact_id]}
    )
    assert deleted.status_code == 404  # one of them is not ours: nothing is deleted
    assert await Contact.exists().where(Contact.id == world.a.contact_id)
    done = await admin.post("/api/contacts/delete", headers=admin_headers, json={"all_matching": True, "filter": {}})
    assert done.json() == {"deleted": 1}
    assert await Contact.exists().where(Contact.id == world.b.contact_id)
    assert await ContactGroupMember.count().where(ContactGroupMember.contact == world.a.contact_id) == 0


async def test_sender_ids_are_kept_by_the_owner(client_for):
    world = await make_world()
    reseller = client_for(world.a.host)
    headers = await api_token(reseller, world.a.reseller_admin)
    refused = await reseller.post(
        f"/api/admin/partners/{world.a.end_user_id}/senders", headers=headers, json={"channel": "sms", "name": "Mine"}
    )
    assert refused.status_code == 403
    owner = client_for(world.owner_host)
    owner_headers = await api_token(owner, "owner@main.test")
    for body, field in [
        ({"channel": "pigeon", "name": "X"}, "channel"),
        ({"channel": "sms", "name": "TooLongName12"}, "name"),
    ]:
        bad = await owner.post(f"/api/admin/partners/{world.a.end_user_id}/senders", headers=owner_headers, json=body)
        assert bad.status_code == 422 and bad.json()["field"] == field
    await owner.patch(f"/api/admin/senders/{world.a.sender_id}", headers=owner_headers, json={"status": "disabled"})
    client, user_headers = await end_user(client_for, world)
    assert (await client.get("/api/senders", headers=user_headers)).json() == []
