"""TEN-4: no route reveals or changes another tenant's objects, and lists stay inside the subtree."""

from __future__ import annotations

from core.tenancy.tables import Partner, PortalRecord
from tests.factories import api_token, make_world, sign_in
from tests.isolation import foreign_id_responses, routes_with_ids


async def test_harness_covers_every_id_route(app):
    templates = {case.template for case in routes_with_ids(app)}
    assert "/api/admin/partners/{partner_id:int}" in templates
    assert "/admin/portals/{portal_id:int}" in templates


async def test_reseller_gets_404_for_every_route_with_the_other_tenants_ids(app, client_for):
    world = await make_world()
    before = await Partner.select().order_by(Partner.id)
    portals_before = await PortalRecord.select().order_by(PortalRecord.id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    headers = await api_token(client, world.a.reseller_admin)
    assert await foreign_id_responses(app, client, world.b, headers) == {}
    assert await Partner.select().order_by(Partner.id) == before
    assert await PortalRecord.select().order_by(PortalRecord.id) == portals_before


async def test_end_user_gets_404_for_other_tenants_and_for_its_own_parent(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    headers = await api_token(client, world.a.end_user_admin)
    assert await foreign_id_responses(app, client, world.b, headers) == {}
    # Its own reseller's ids are outside an end user's reach too (the Admin Panel does not exist for it).
    assert await foreign_id_responses(app, client, world.a, headers, only={"partner_id", "portal_id"}) == {}


async def test_reseller_lists_only_its_subtree(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.reseller_admin)
    partners = (await client.get("/api/admin/partners", headers=headers)).json()
    assert {p["id"] for p in partners["items"]} == {world.a.reseller_id, world.a.end_user_id}
    portals = (await client.get("/api/admin/portals", headers=headers)).json()
    assert [p["id"] for p in portals["items"]] == [world.a.portal_id]
    audit = (await client.get("/api/admin/audit", headers=headers)).json()
    assert audit["items"] and all(e["partner_id"] in {world.a.reseller_id, world.a.end_user_id} for e in audit["items"])
    page = await client.get("/admin/partners", headers=headers)
    assert page.status_code in (302, 303)  # pages need a session, not a token


async def test_reseller_cannot_create_under_another_tenant(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.reseller_admin)
    response = await client.post(
        "/api/admin/partners",
        headers=headers,
        json={"name": "Sneaky", "kind": "end_user", "parent_id": world.b.reseller_id},
    )
    assert response.status_code == 404
    response = await client.post(
        "/api/admin/portals",
        headers=headers,
        json={"slug": "sneaky", "brand_name": "S", "hosts": ["sneaky.test"], "partner_id": world.b.reseller_id},
    )
    assert response.status_code == 404
    response = await client.post(
        "/api/admin/partners",
        headers=headers,
        json={"name": "Sneaky", "kind": "end_user", "portal_id": world.b.portal_id},
    )
    assert response.status_code == 404
    assert not await Partner.exists().where(Partner.name == "Sneaky")
