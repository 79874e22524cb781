"""URL-1: the owner adds short domains and grants them down the tree; a reseller gives only what it was given."""

from __future__ import annotations

from core.tenancy import short_domains
from core.tenancy.schemas import ShortDomainCreate
from core.tenancy.tables import AuditEntry, Partner
from core.web.pagination import DEFAULT_PER_PAGE
from tests.factories import api_token, make_world, post_form, sign_in
from tests.isolation import foreign_id_responses

API = "/api/admin/short-domains"


async def _owner(client_for):
    world = await make_world()
    client = client_for(world.owner_host)
    return world, client, await api_token(client, "owner@main.test")


async def _add(client, headers, host: str) -> int:
    response = await client.post(API, headers=headers, json={"host": host})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_owner_adds_and_grants_a_domain_and_the_menu_follows(client_for):
    world, owner, headers = await _owner(client_for)
    go = await _add(owner, headers, "Go.Example.test")
    assert (await owner.get(f"{API}/{go}", headers=headers)).json()["host"] == "go.example.test"
    again = await owner.post(API, headers=headers, json={"host": "go.example.test"})
    assert again.status_code == 409 and again.json()["field"] == "host"
    bad = await owner.post(API, headers=headers, json={"host": "not a host"})
    assert bad.status_code == 400 and "host" in bad.json()["detail"]

    reseller = client_for(world.a.host)
    await sign_in(reseller, world.a.reseller_admin)
    assert "/admin/short-domains" not in (await reseller.get("/admin/partners")).text
    granted = await owner.post(f"{API}/{go}/grants", headers=headers, json={"partner_id": world.a.reseller_id})
    assert granted.status_code == 201 and granted.json()["granted_to"] == [world.a.reseller_id]
    page = await reseller.get("/admin/short-domains")
    assert page.status_code == 200 and "go.example.test" in page.text
    assert await AuditEntry.exists().where(AuditEntry.action == "short_domain.grant")

    revoked = await owner.delete(f"{API}/{go}/grants/{world.a.reseller_id}", headers=headers)
    assert revoked.status_code == 204
    assert "go.example.test" not in (await reseller.get("/admin/short-domains")).text
    assert "/admin/short-domains" not in (await reseller.get("/admin/partners")).text


async def test_a_reseller_grants_only_what_it_was_granted(client_for):
    world, owner, headers = await _owner(client_for)
    go = await _add(owner, headers, "go.test")
    other = await _add(owner, headers, "other.test")
    await owner.post(f"{API}/{go}/grants", headers=headers, json={"partner_id": world.a.reseller_id})
    reseller = client_for(world.a.host)
    r_headers = await api_token(reseller, world.a.reseller_admin)
    assert [d["host"] for d in (await reseller.get(API, headers=r_headers)).json()] == ["go.test"]
    refused = await reseller.post(f"{API}/{other}/grants", headers=r_headers, json={"partner_id": world.a.end_user_id})
    assert refused.status_code == 404
    # Through the partner's options too: the same rule, naming the field.
    options = {"shortener_domains": ["other.test"]}
    patched = await reseller.patch(
        f"/api/admin/partners/{world.a.end_user_id}", headers=r_headers, json={"options": options}
    )
    assert patched.status_code == 422 and patched.json()["field"] == "options.shortener_domains"
    stored = await Partner.select(Partner.options).where(Partner.id == world.a.end_user_id).first()
    assert "other.test" not in str(stored)
    ok = await reseller.post(f"{API}/{go}/grants", headers=r_headers, json={"partner_id": world.a.end_user_id})
    assert ok.status_code == 201 and ok.json()["granted_to"] == [world.a.end_user_id]
    company = client_for(world.a.host)
    await sign_in(company, world.a.end_user_admin)
    # Revoked from the reseller: gone for its whole subtree at once, although the company's own grant stays.
    await owner.delete(f"{API}/{go}/grants/{world.a.reseller_id}", headers=headers)
    assert (await reseller.get(API, headers=r_headers)).json() == []
    again = await reseller.post(f"{API}/{go}/grants", headers=r_headers, json={"partner_id": world.a.end_user_id})
    assert again.status_code == 404
    # Only the owner adds domains; an end user has no Admin Panel at all.
    assert (await reseller.post(API, headers=r_headers, json={"host": "mine.test"})).status_code == 403
    c_headers = await api_token(company, world.a.end_user_admin)
    assert (await company.get(API, headers=c_headers)).status_code in (403, 404)


async def test_pages_add_grant_revoke_and_remove(client_for):
    world = await make_world()
    owner = client_for(world.owner_host)
    await sign_in(owner, "owner@main.test")
    added = await post_form(owner, "/admin/short-domains", {"host": "page.test"})
    assert added.status_code in (302, 303)
    page = await owner.get("/admin/short-domains")
    assert "page.test" in page.text and "Reseller A" in page.text
    headers = await api_token(owner, "owner@main.test")
    domain = (await owner.get(API, headers=headers)).json()[0]["id"]
    bad = await post_form(owner, "/admin/short-domains", {"host": "page.test"})
    assert bad.status_code == 409 and "already a short domain" in bad.text
    granted = await post_form(owner, f"/admin/short-domains/{domain}/grants", {"partner_id": world.b.reseller_id})
    assert granted.status_code in (302, 303)
    assert (await owner.get(f"{API}/{domain}", headers=headers)).json()["granted_to"] == [world.b.reseller_id]
    deeper = await post_form(owner, f"/admin/short-domains/{domain}/grants", {"partner_id": world.b.end_user_id})
    assert deeper.status_code == 422 and "your own partners" in deeper.text
    revoked = await post_form(owner, f"/admin/short-domains/{domain}/grants/{world.b.reseller_id}/revoke")
    assert revoked.status_code in (302, 303)
    assert (await owner.get(f"{API}/{domain}", headers=headers)).json()["granted_to"] == []
    removed = await post_form(owner, f"/admin/short-domains/{domain}/delete")
    assert removed.status_code in (302, 303)
    assert (await owner.get(API, headers=headers)).json() == []


async def test_domain_routes_are_isolated(app, client_for):
    world, owner, headers = await _owner(client_for)
    for tenant in (world.a, world.b):
        domain = await _add(owner, headers, f"go.{tenant.tag}.test")
        await owner.post(f"{API}/{domain}/grants", headers=headers, json={"partner_id": tenant.reseller_id})
        tenant.short_domain_id = domain  # type: ignore[attr-defined]
    before = await Partner.select(Partner.id, Partner.options).order_by(Partner.id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    r_headers = await api_token(client, world.a.reseller_admin)
    assert await foreign_id_responses(app, client, world.b, r_headers, only={"domain_id", "partner_id"}) == {}
    assert await Partner.select(Partner.id, Partner.options).order_by(Partner.id) == before


async def test_the_grant_page_has_pages_and_keeps_its_page_after_a_grant(client_for):
    world = await make_world()
    owner = client_for(world.owner_host)
    await sign_in(owner, "owner@main.test")
    reseller = client_for(world.a.host)
    await sign_in(reseller, world.a.reseller_admin)
    empty = await reseller.get("/admin/short-domains")
    assert empty.status_code == 200 and "No short domain was granted to your company yet" in empty.text

    assert (await owner.get("/admin/short-domains")).text.count("No short domains yet.") == 1
    for n in range(DEFAULT_PER_PAGE + 3):
        await short_domains.create_domain(world.owner, ShortDomainCreate(host=f"go{n:02d}.test"))
    first = await owner.get("/admin/short-domains")
    assert first.text.count('<tr id="domain-') == DEFAULT_PER_PAGE and "go00.test" in first.text
    assert "Page 1 / 2" in first.text and "page_no=2" in first.text
    second = await owner.get("/admin/short-domains", params={"page_no": 2})
    assert second.text.count('<tr id="domain-') == 3 and "go52.test" in second.text and "go00.test" not in second.text
    last = (await short_domains.list_domains(world.owner))[-1]
    granted = await post_form(
        owner, f"/admin/short-domains/{last.id}/grants", {"partner_id": world.a.reseller_id, "page_no": 2}
    )
    assert granted.status_code in (302, 303) and "page_no=2" in granted.headers["location"]
    beyond = await owner.get("/admin/short-domains", params={"page_no": 9})
    assert "No short domains on this page." in beyond.text

    only = await reseller.get("/admin/short-domains")
    assert only.text.count('<tr id="domain-') == 1 and "go52.test" in only.text and "Page 1 /" not in only.text
