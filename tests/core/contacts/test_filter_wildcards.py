"""Text filters match literally (issue 17, finding 6): wildcards are escaped, a filter never widens a mass action."""

from __future__ import annotations

from core.contacts.tables import Contact
from core.db import contains, icontains, starts_with
from tests.factories import api_token, make_world


async def _names_client(client_for, world, names: list[str]):
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    for n, name in enumerate(names):
        response = await client.post(
            "/api/contacts",
            headers=headers,
            json={"phone": f"+3469900010{n}", "groups": [world.a.group_id], "first_name": name, "comments": name},
        )
        assert response.status_code == 201, response.text
    return client, headers


async def test_phone_filter_without_digits_is_refused_and_delete_all_matching_deletes_nothing(client_for):
    world = await make_world()
    client, headers = await _names_client(client_for, world, ["Ana", "Bea"])
    before = await Contact.count()
    for phone in ("n/a", "%", "+ -"):
        listed = await client.get("/api/contacts", headers=headers, params={"phone": phone})
        assert listed.status_code == 422 and listed.json()["field"] == "phone", listed.text
        deleted = await client.post(
            "/api/contacts/delete", headers=headers, json={"all_matching": True, "filter": {"phone": phone}}
        )
        assert deleted.status_code == 422 and deleted.json()["field"] == "phone", deleted.text
    assert await Contact.count() == before


async def test_percent_and_underscore_in_text_filters_match_only_themselves(client_for):
    world = await make_world()
    client, headers = await _names_client(client_for, world, ["100% Ana", "Bea_x", "Beax", "Back\\slash"])

    async def first_names(**params: str) -> list[str]:
        response = await client.get("/api/contacts", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return sorted(c["first_name"] for c in response.json()["items"])

    assert await first_names(first_name="%") == ["100% Ana"]
    assert await first_names(first_name="_") == ["Bea_x"]
    assert await first_names(comments="a_x") == ["Bea_x"]
    assert await first_names(last_name="%") == []
    assert await first_names(first_name="\\") == ["Back\\slash"]
    # "Delete all matching" a wildcard deletes the one contact that holds it, not everyone.
    deleted = await client.post(
        "/api/contacts/delete", headers=headers, json={"all_matching": True, "filter": {"first_name": "_"}}
    )
    assert deleted.json() == {"deleted": 1}
    assert not await Contact.exists().where(Contact.first_name == "Bea_x")
    assert await Contact.exists().where(Contact.first_name == "Beax")


async def test_custom_field_filter_escapes_wildcards(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    for n, level in enumerate(["50%", "gold"]):
        response = await client.post(
            "/api/contacts",
            headers=headers,
            json={"phone": f"+3469900020{n}", "groups": [world.a.group_id], "custom": {"loyalty_level": level}},
        )
        assert response.status_code == 201, response.text
    response = await client.get("/api/contacts", headers=headers, params={"custom.loyalty_level": "%"})
    assert [c["custom"]["loyalty_level"] for c in response.json()["items"]] == ["50%"]
    response = await client.get("/api/contacts", headers=headers, params={"custom.loyalty_level": "g_ld"})
    assert response.json()["items"] == []


async def test_the_like_helpers_escape_for_every_caller():
    world = await make_world()
    assert await Contact.count().where(contains(Contact.first_name, "%")) == 0
    assert await Contact.count().where(icontains(Contact.first_name, "CLIENT A")) == 1
    assert await Contact.count().where(starts_with(Contact.first_name, "Client")) == 2
    assert await Contact.count().where(starts_with(Contact.first_name, "_lient")) == 0
    assert world.a.contact_id
