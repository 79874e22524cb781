"""Admin Panel pages: the forms a reseller uses daily, with their errors, filters and empty states."""

from __future__ import annotations

from core.accounts.tables import User
from core.tenancy import short_domains
from core.tenancy.schemas import ShortDomainCreate
from core.tenancy.tables import Partner, PortalHost, PortalRecord
from tests.factories import make_world, post_form, sign_in


async def reseller_session(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    return world, client


async def test_overview_counts_and_recent_activity(client_for):
    _world, client = await reseller_session(client_for)
    page = (await client.get("/admin")).text
    assert "Recent activity" in page and "Test User created end-user company Company A under Reseller A" in page
    assert '<span class="stat-value">1</span><span class="stat-label">End-user companies' in page


async def test_create_partner_through_the_form_and_see_it_in_the_tree(client_for):
    world, client = await reseller_session(client_for)
    for host in ("go.test", "click.test"):  # a reseller grants only the short domains it was granted (URL-1)
        domain = await short_domains.create_domain(world.owner, ShortDomainCreate(host=host))
        await short_domains.grant(world.owner, domain.id, world.a.reseller_id)
    response = await post_form(
        client,
        "/admin/partners",
        {
            "name": "Corner Shop",
            "kind": "end_user",
            "parent_id": str(world.a.reseller_id),
            "portal_id": "",
            "currency": "",
            "credit_limit": "12.5",
            "options.flash_sms": "on",
            "options.channels": ["sms", "viber"],
            "options.shortener_domains": "go.test\nclick.test",
        },
    )
    assert response.status_code in (302, 303), response.text
    partner = await Partner.select().where(Partner.name == "Corner Shop").first()
    assert partner["credit_limit"] == 12_500_000 and partner["portal_id"] == world.a.portal_id
    detail = (await client.get(response.headers["location"])).text
    assert "Corner Shop" in detail and 'value="viber" checked' in detail and "go.test\nclick.test" in detail
    tree = (await client.get("/admin/partners")).text
    assert tree.index("Reseller A") < tree.index("Company A") and "Corner Shop" in tree


async def test_partner_form_errors_keep_what_was_typed(client_for):
    world, client = await reseller_session(client_for)
    response = await post_form(
        client,
        "/admin/partners",
        {
            "name": "Company A",
            "kind": "end_user",
            "parent_id": str(world.a.reseller_id),
            "credit_limit": "3",
            "options.mo_enabled": "on",
        },
    )
    assert response.status_code == 409
    assert "already exists" in response.text and 'value="Company A"' in response.text and 'value="3"' in response.text
    assert 'name="options.mo_enabled" checked' in response.text
    bad = await post_form(client, "/admin/partners", {"name": "", "kind": "end_user", "credit_limit": "0"})
    assert bad.status_code == 422 and "name" in bad.text
    assert await Partner.count().where(Partner.name == "") == 0


async def test_settings_block_and_users_on_the_partner_page(client_for):
    world, client = await reseller_session(client_for)
    url = f"/admin/partners/{world.a.end_user_id}"
    saved = await post_form(
        client,
        url,
        {
            "name": "Company A Ltd",
            "credit_limit": "5",
            "portal_id": str(world.a.portal_id),
            "options.auto_replies": "on",
        },
    )
    assert saved.headers["location"] == f"{url}?saved=settings"
    row = await Partner.select().where(Partner.id == world.a.end_user_id).first()
    assert row["name"] == "Company A Ltd" and row["credit_limit"] == 5_000_000 and not row["blocked"]
    await post_form(client, f"{url}/block", {"blocked": "1"})
    page = (await client.get(url)).text
    assert "Unblock" in page and "badge-blocked" in page
    await post_form(client, f"{url}/block", {"blocked": "0"})
    assert not (await Partner.select(Partner.blocked).where(Partner.id == world.a.end_user_id).first())["blocked"]
    added = await post_form(
        client,
        f"{url}/users",
        {
            "first_name": "Nia",
            "last_name": "Ng",
            "email": "nia@a.test",
            "role": "operator",
            "password": "nia-password-1",
        },
    )
    assert added.headers["location"] == f"{url}?saved=user"
    assert "nia@a.test" in (await client.get(url)).text
    failed = await post_form(
        client,
        f"{url}/users",
        {
            "first_name": "Nia",
            "last_name": "Ng",
            "email": "nia@a.test",
            "role": "operator",
            "password": "nia-password-1",
        },
    )
    assert failed.status_code == 409 and "already exists" in failed.text and "<details open" in failed.text
    own = (await client.get(f"/admin/partners/{world.a.reseller_id}")).text
    assert "set up by your parent partner" in own and ">Block<" not in own


async def test_partner_list_filters_pagination_and_htmx_partial(client_for):
    world, client = await reseller_session(client_for)
    for i in range(55):
        await post_form(
            client,
            "/admin/partners",
            {"name": f"Shop {i:02d}", "kind": "end_user", "parent_id": str(world.a.reseller_id), "credit_limit": "0"},
        )
    first = (await client.get("/admin/partners")).text
    assert "Page 1 / 2" in first and "57 rows" in first and "page_no=2" in first
    second = (await client.get("/admin/partners?page_no=2")).text
    assert "Shop 54" in second and "Shop 00" not in second
    found = (await client.get("/admin/partners?q=shop 1")).text
    assert "Shop 10" in found and "Shop 19" in found and "Shop 20" not in found
    none = (await client.get("/admin/partners?q=zzz")).text
    assert "No partner matches these filters." in none
    partial = await client.get("/admin/partners?q=Shop 07", headers={"HX-Request": "true"})
    assert "Shop 07" in partial.text


async def test_portal_form_create_edit_and_duplicate_host(client_for):
    _world, client = await reseller_session(client_for)
    empty = (await client.get("/admin/portals?q=zzz")).text
    assert "No portal matches this search." in empty
    created = await post_form(
        client,
        "/admin/portals",
        {
            "slug": "summer",
            "brand_name": "Summer",
            "hosts": "summer.test\nwww.summer.test",
            "theme": "default",
            "default_language": "en",
            "languages": ["en", "tr"],
            "self_registration": "on",
        },
    )
    assert created.status_code in (302, 303), created.text
    portal = await PortalRecord.select().where(PortalRecord.slug == "summer").first()
    assert portal["self_registration"] and not portal["require_2fa"] and portal["theme"] == "default"
    edit_url = created.headers["location"].split("?")[0]
    page = (await client.get(created.headers["location"])).text
    assert "Saved." in page and "summer.test\nwww.summer.test" in page
    clash = await post_form(
        client,
        edit_url,
        {
            "brand_name": "Summer",
            "hosts": "summer.test\na.test",
            "theme": "default",
            "default_language": "en",
            "languages": "en",
        },
    )
    assert clash.status_code == 409 and "a.test" in clash.text and "summer.test\na.test" in clash.text
    hosts = [h["host"] for h in await PortalHost.select().where(PortalHost.portal == portal["id"])]
    assert sorted(hosts) == ["summer.test", "www.summer.test"]
    listing = (await client.get("/admin/portals")).text
    assert "Summer" in listing and "Brand a" in listing


async def test_audit_page_filters(client_for):
    world, client = await reseller_session(client_for)
    await post_form(client, f"/admin/partners/{world.a.end_user_id}/block", {"blocked": "1"})
    page = (await client.get("/admin/audit?action=partner.block")).text
    assert "Test User blocked Company A" in page and "created end-user company" not in page
    assert "No entries match." in (await client.get("/admin/audit?q=nothing-like-this")).text


async def test_portal_form_sets_custom_sign_up_fields(client_for):
    world, client = await reseller_session(client_for)
    url = f"/admin/portals/{world.a.portal_id}"
    saved = await post_form(
        client,
        url,
        {
            "brand_name": "Brand a",
            "hosts": "a.test",
            "theme": "default",
            "default_language": "en",
            "languages": "en",
            "self_registration": "on",
            "registration_fields": "VAT number *\nHow did you hear of us?",
        },
    )
    assert saved.status_code in (302, 303), saved.text
    portal = (await client.get(url)).text
    assert "VAT number *\nHow did you hear of us?" in portal
    signup = (await client_for(world.a.host).get("/signup")).text
    assert 'name="custom.vat_number"' in signup and 'name="custom.how_did_you_hear_of_us"' in signup


async def test_owner_keeps_sender_ids_on_the_partner_page(client_for):
    world = await make_world()
    owner = client_for(world.owner_host)
    await sign_in(owner, "owner@main.test")
    url = f"/admin/partners/{world.a.end_user_id}"
    added = await post_form(owner, f"{url}/senders", {"name": "ShopSMS", "channel": "sms", "status": "enabled"})
    assert added.headers["location"] == f"{url}?saved=senders"
    page = (await owner.get(url)).text
    assert "<code>ShopSMS</code>" in page and "<code>BrandA</code>" in page
    bad = await post_form(owner, f"{url}/senders", {"name": "Bad*Name", "channel": "sms"})
    assert bad.status_code == 422 and "up to 11 letters" in bad.text
    reseller = client_for(world.a.host)
    await sign_in(reseller, world.a.reseller_admin)
    view = (await reseller.get(url)).text
    assert "<code>ShopSMS</code>" in view and "Add sender ID" not in view
    refused = await post_form(reseller, f"{url}/senders", {"name": "Mine", "channel": "sms"})
    assert refused.status_code == 403


async def test_a_form_error_reads_in_the_user_s_language_beside_its_field(client_for):
    world = await make_world()
    await User.update({User.language: "es"}).where(User.email == world.a.reseller_admin)
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    bad = await post_form(client, "/admin/partners", {"name": "", "kind": "end_user", "credit_limit": "0"})
    assert bad.status_code == 422
    # Beside the field: the message alone, translated; above the form: the field's key and the translated message.
    assert '<span class="field-error" role="alert">obligatoria</span>' in bad.text
    assert "name: obligatoria" in bad.text and "name: required" not in bad.text
