"""Admin Panel REST API (ADM-1/2): create, change, validate and audit portals, partners, users and balances."""

from __future__ import annotations

from core.tenancy.tables import AuditEntry, Partner, PortalHost, PortalRecord
from tests.factories import api_token, make_world


async def owner_client(client_for):
    world = await make_world()
    client = client_for(world.owner_host)
    return world, client, await api_token(client, "owner@main.test")


async def test_reseller_tree_of_any_depth_and_its_listing(client_for):
    world, client, headers = await owner_client(client_for)
    parent = world.a.reseller_id
    chain = []
    for level in range(3):
        response = await client.post(
            "/api/admin/partners",
            headers=headers,
            json={"name": f"Level {level}", "kind": "reseller", "parent_id": parent},
        )
        assert response.status_code == 201, response.text
        parent = response.json()["id"]
        chain.append(response.json())
    assert [p["depth"] for p in chain] == [2, 3, 4]
    leaf = await client.post(
        "/api/admin/partners",
        headers=headers,
        json={"name": "Deep Shop", "kind": "end_user", "parent_id": parent, "currency": "USD", "credit_limit": "25.50"},
    )
    assert leaf.status_code == 201
    assert leaf.json()["currency"] == "USD" and leaf.json()["credit_limit"] == "25.5"
    # The reseller A admin sees the whole chain, depth-first.
    reseller_headers = await api_token(client_for(world.a.host), world.a.reseller_admin)
    listing = (await client_for(world.a.host).get("/api/admin/partners", headers=reseller_headers)).json()
    names = [p["name"] for p in listing["items"]]
    assert names == ["Reseller A", "Company A", "Level 0", "Level 1", "Level 2", "Deep Shop"]
    only_resellers = await client.get("/api/admin/partners?kind=reseller&q=level", headers=headers)
    assert [p["name"] for p in only_resellers.json()["items"]] == ["Level 0", "Level 1", "Level 2"]


async def test_an_end_user_cannot_have_children(client_for):
    world, client, headers = await owner_client(client_for)
    response = await client.post(
        "/api/admin/partners",
        headers=headers,
        json={"name": "Child", "kind": "end_user", "parent_id": world.a.end_user_id},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "parent_id"


async def test_bad_input_names_the_field_and_writes_nothing(client_for):
    _world, client, headers = await owner_client(client_for)
    count = await Partner.count()
    cases = [
        ({"name": "", "kind": "reseller"}, "name"),
        ({"name": "X", "kind": "emperor"}, "kind"),
        ({"name": "X", "kind": "reseller", "currency": "euro"}, "currency"),
        ({"name": "X", "kind": "reseller", "credit_limit": "-1"}, "credit_limit"),
        ({"name": "X", "kind": "reseller", "credit_limit": "lots"}, "credit_limit"),
        ({"name": "X", "kind": "reseller", "options": {"channels": ["pigeon"]}}, "options.channels"),
        ({"name": "X", "kind": "reseller", "colour": "red"}, "colour"),
        ({"name": "X" * 121, "kind": "reseller"}, "name"),
    ]
    for body, field in cases:
        response = await client.post("/api/admin/partners", headers=headers, json=body)
        assert response.status_code in (400, 422), (body, response.text)
        error = response.json()
        assert field in (error.get("field") or "") + error["detail"], (body, error)
    bad_json = await client.post(
        "/api/admin/partners", headers={**headers, "content-type": "application/json"}, content=b"{not json"
    )
    assert bad_json.status_code == 400
    assert await Partner.count() == count


async def test_duplicates_answer_409_with_the_reason(client_for):
    world, client, headers = await owner_client(client_for)
    dup_partner = await client.post(
        "/api/admin/partners", headers=headers, json={"name": "reseller a", "kind": "reseller"}
    )
    assert dup_partner.status_code == 409 and "already exists" in dup_partner.json()["detail"]
    # The same name under another parent is fine.
    other_parent = await client.post(
        "/api/admin/partners",
        headers=headers,
        json={"name": "Company A", "kind": "end_user", "parent_id": world.b.reseller_id},
    )
    assert other_parent.status_code == 201
    dup_host = await client.post(
        "/api/admin/portals",
        headers=headers,
        json={"slug": "new-one", "brand_name": "New", "hosts": ["fresh.test", "A.test"]},
    )
    assert dup_host.status_code == 409 and "a.test" in dup_host.json()["detail"]
    assert not await PortalHost.exists().where(PortalHost.host == "fresh.test")
    dup_slug = await client.post(
        "/api/admin/portals", headers=headers, json={"slug": "main", "brand_name": "New", "hosts": ["fresh.test"]}
    )
    assert dup_slug.status_code == 409 and dup_slug.json()["field"] == "slug"
    dup_user = await client.post(
        f"/api/admin/partners/{world.a.end_user_id}/users",
        headers=headers,
        json={"email": "USER@a.test", "first_name": "A", "last_name": "B", "password": "0123456789ab"},
    )
    assert dup_user.status_code == 409 and dup_user.json()["field"] == "email"


async def test_portal_create_and_edit_hosts_theme_and_flags(client_for):
    world, client, headers = await owner_client(client_for)
    created = await client.post(
        "/api/admin/portals",
        headers=headers,
        json={
            "slug": "spring",
            "brand_name": "Spring Sale",
            "hosts": ["Spring.test", "www.spring.test"],
            "partner_id": world.a.reseller_id,
            "theme": "skyline",
            "self_registration": True,
            "require_2fa": True,
            "terms_url": "https://spring.test/terms",
            "help_email": "help@spring.test",
            "languages": ["en", "es"],
            "default_language": "es",
        },
    )
    assert created.status_code == 201, created.text
    portal = created.json()
    assert portal["hosts"] == ["spring.test", "www.spring.test"] and portal["partner_name"] == "Reseller A"
    login = await client_for("www.spring.test").get("/login")
    assert "Spring Sale" in login.text and "/theme/skyline/" in login.text
    changed = await client.patch(
        f"/api/admin/portals/{portal['id']}",
        headers=headers,
        json={"hosts": ["autumn.test"], "brand_name": "Autumn", "require_2fa": False},
    )
    assert changed.status_code == 200
    assert changed.json()["hosts"] == ["autumn.test"] and not changed.json()["require_2fa"]
    assert (await client_for("spring.test").get("/login")).status_code == 404
    assert "Autumn" in (await client_for("autumn.test").get("/login")).text
    bad_theme = await client.patch(f"/api/admin/portals/{portal['id']}", headers=headers, json={"theme": "nope"})
    assert bad_theme.status_code == 422 and bad_theme.json()["field"] == "theme"
    bad_lang = await client.patch(
        f"/api/admin/portals/{portal['id']}", headers=headers, json={"default_language": "ru"}
    )
    assert bad_lang.status_code == 422 and bad_lang.json()["field"] == "default_language"
    bad_host = await client.patch(f"/api/admin/portals/{portal['id']}", headers=headers, json={"hosts": ["not a host"]})
    assert bad_host.status_code == 400 and "hosts" in bad_host.json()["detail"]
    end_user_owner = await client.post(
        "/api/admin/portals",
        headers=headers,
        json={"slug": "shop", "brand_name": "Shop", "hosts": ["shop.test"], "partner_id": world.a.end_user_id},
    )
    assert end_user_owner.status_code == 422 and end_user_owner.json()["field"] == "partner_id"


async def test_options_block_and_users_are_audited(client_for):
    world, client, headers = await owner_client(client_for)
    domain = (await client.post("/api/admin/short-domains", headers=headers, json={"host": "go.test"})).json()
    grant = {"partner_id": world.a.reseller_id}  # the end user's parent must have it first (URL-1)
    await client.post(f"/api/admin/short-domains/{domain['id']}/grants", headers=headers, json=grant)
    url = f"/api/admin/partners/{world.a.end_user_id}"
    options = {"mo_enabled": True, "flash_sms": True, "channels": ["sms", "viber"], "shortener_domains": ["go.test"]}
    changed = await client.patch(url, headers=headers, json={"options": options, "credit_limit": 10})
    assert changed.status_code == 200
    assert changed.json()["options"]["channels"] == ["sms", "viber"] and changed.json()["credit_limit"] == "10"
    blocked = await client.patch(url, headers=headers, json={"blocked": True})
    assert blocked.json()["blocked"] is True
    user = await client.post(
        f"{url}/users",
        headers=headers,
        json={
            "email": "New.Person@A.test",
            "first_name": "New",
            "last_name": "Person",
            "password": "long-enough-pw",
            "role": "operator",
        },
    )
    assert user.status_code == 201 and user.json()["email"] == "new.person@a.test"
    short = await client.post(
        f"{url}/users",
        headers=headers,
        json={"email": "x@a.test", "first_name": "X", "last_name": "Y", "password": "short"},
    )
    assert short.status_code == 400 and "password" in short.json()["detail"]
    users = (await client.get(f"{url}/users", headers=headers)).json()
    assert {u["email"] for u in users["items"]} == {"user@a.test", "op@a.test", "new.person@a.test"}
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions[-3:] == ["partner.update", "partner.block", "user.create"]
    audit = (await client.get("/api/admin/audit?action=partner.block", headers=headers)).json()
    assert audit["total"] == 1 and "Blocked Company A" in audit["items"][0]["summary"]
    assert audit["items"][0]["user_email"] == "owner@main.test"


async def test_nobody_changes_its_own_partner(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.reseller_admin)
    response = await client.patch(
        f"/api/admin/partners/{world.a.reseller_id}", headers=headers, json={"credit_limit": 1_000_000}
    )
    assert response.status_code == 403
    response = await client.post(
        f"/api/admin/partners/{world.a.reseller_id}/balance-adjustments",
        headers=headers,
        json={"amount": 1_000_000, "reason": "free money"},
    )
    assert response.status_code == 403
    assert (await Partner.select(Partner.credit_limit).where(Partner.id == world.a.reseller_id).first()) == {
        "credit_limit": 0
    }


async def test_channels_endpoint_lists_the_loaded_plugins(client_for):
    _world, client, headers = await owner_client(client_for)
    channels = (await client.get("/api/admin/channels", headers=headers)).json()
    assert [c["name"] for c in channels] == ["sms", "viber", "whatsapp"]


async def test_openapi_schema_describes_the_admin_api(client_for):
    await make_world()
    schema = (await client_for("main.test").get("/schema/openapi.json")).json()
    assert "/api/admin/partners" in schema["paths"] and "/api/auth/login" in schema["paths"]
    assert "PartnerCreate" in schema["components"]["schemas"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_portal_rows_are_only_written_whole(client_for):
    _world, client, headers = await owner_client(client_for)
    before = await PortalRecord.count()
    response = await client.post(
        "/api/admin/portals",
        headers=headers,
        json={"slug": "half", "brand_name": "Half", "hosts": ["half.test", "main.test"]},
    )
    assert response.status_code == 409
    assert await PortalRecord.count() == before
    assert not await PortalHost.exists().where(PortalHost.host == "half.test")
