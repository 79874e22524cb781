"""The Campaign Portal shell: menu, header, user menu, account settings and error pages (ACC-4, ACC-5)."""

from __future__ import annotations

import re

from core.accounts.tables import User
from core.tenancy.tables import PortalRecord
from tests.factories import make_world, post_form, sign_in


def menu_labels(html: str) -> list[str]:
    return re.findall(r'class="menu-link[^"]*">([^<]+)</a>', html)


async def test_menu_shows_only_sections_that_exist_for_the_user(client_for):
    world = await make_world()
    end_user = client_for(world.a.host)
    await sign_in(end_user, world.a.end_user_admin)
    sections = ["Dashboard", "Campaigns", "Templates", "Contacts", "Sender IDs", "Statistics", "Purchase"]
    api = ["API keys", "Callback Settings", "API methods"]
    assert menu_labels((await end_user.get("/")).text) == [*sections, "Finance", *api]
    operator = client_for(world.a.host)
    await sign_in(operator, world.a.end_user_operator)
    assert menu_labels((await operator.get("/")).text) == sections
    reseller = client_for(world.a.host)
    await sign_in(reseller, world.a.reseller_admin)
    page = (await reseller.get("/admin/partners")).text
    assert menu_labels(page) == [*sections, "Finance", *api, "Admin Panel"]
    assert 'href="/admin/portals"' in page and 'href="/admin/audit"' in page
    assert "Top Up" not in page  # no payment page exists yet


async def test_user_menu_links_follow_the_portal_settings(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    bare = (await client.get("/")).text
    assert "Terms of service" not in bare and "Privacy policy" not in bare and "Get help" not in bare
    assert "Account settings" in bare and "Sign out" in bare and "Version 0.1.0" in bare
    await PortalRecord.update(
        {
            PortalRecord.terms_url: "https://a.test/terms",
            PortalRecord.privacy_url: "https://a.test/privacy",
            PortalRecord.help_email: "help@a.test",
        }
    ).where(PortalRecord.id == world.a.portal_id)
    from core.tenancy.resolver import resolver

    resolver.clear()
    full = (await client.get("/")).text
    assert 'href="https://a.test/terms"' in full and 'href="https://a.test/privacy"' in full
    assert 'href="mailto:help@a.test"' in full


async def test_dashboard_offers_quick_access(client_for):
    world = await make_world()
    reseller = client_for(world.a.host)
    await sign_in(reseller, world.a.reseller_admin)
    page = (await reseller.get("/")).text
    assert "Quick access" in page and 'href="/admin/partners/new"' in page
    assert "1,000.00 EUR" in page  # the balance in the header


async def test_theme_toggle_and_account_settings(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    assert 'data-theme="light"' in (await client.get("/")).text
    toggled = await post_form(client, "/account/theme", {"next": "/account"})
    assert toggled.headers["location"] == "/account"
    assert 'data-theme="dark"' in (await client.get("/")).text
    saved = await post_form(
        client,
        "/account",
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "date_format": "DD.MM.YYYY",
            "timezone": "Europe/Madrid",
            "theme": "light",
        },
    )
    assert saved.status_code in (302, 303)
    row = await User.select().where(User.email == world.a.end_user_admin).first()
    assert (row["first_name"], row["date_format"], row["timezone"]) == ("Ann", "DD.MM.YYYY", "Europe/Madrid")
    bad = await post_form(client, "/account", {"first_name": "", "last_name": "Lee", "timezone": "Mars/Base"})
    assert bad.status_code == 422 and "first_name" in bad.text
    bad_tz = await post_form(client, "/account", {"first_name": "Ann", "last_name": "Lee", "timezone": "Mars/Base"})
    assert bad_tz.status_code == 422 and "Unknown time zone" in bad_tz.text
    assert (await User.select(User.timezone).where(User.email == world.a.end_user_admin).first())[
        "timezone"
    ] == "Europe/Madrid"


async def test_dates_follow_the_users_format_and_time_zone(client_for):
    world = await make_world()
    await User.update({User.date_format: "DD.MM.YYYY", User.timezone: "Asia/Tokyo"}).where(
        User.email == world.a.reseller_admin
    )
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    page = (await client.get("/admin/audit")).text
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", page)


async def test_unknown_page_and_csrf_failure_are_pages_for_people(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404 and "Not found" in missing.text and "<html" in missing.text
    forged = await client.post("/account/theme", data={"next": "/"})
    assert forged.status_code == 403 and "Your form expired" in forged.text
    assert (await client.get("/api/admin/nothing")).json() == {"status_code": 404, "detail": "Page not found"}


async def test_error_pages_carry_the_brand_of_the_host_and_never_another(client_for):
    world = await make_world()
    for tenant, brand, other in ((world.a, "Brand a", "Brand b"), (world.b, "Brand b", "Brand a")):
        client = client_for(tenant.host)
        await sign_in(client, tenant.end_user_admin)
        for path in ("/no/such/page", "/campaigns/999999"):  # an unknown route, and a known one's missing object
            page = (await client.get(path)).text
            assert f"<title>404 · {brand}</title>" in page, path
            assert other not in page and "Main Portal" not in page and "Campaign Portal" not in page
    stranger = client_for("nobody.test")
    page = await stranger.get("/no/such/page")
    assert page.status_code == 404 and "<title>404</title>" in page.text  # no portal: no brand at all
    assert not any(name in page.text for name in ("Brand a", "Brand b", "Main Portal", "Campaign Portal"))


async def test_theme_files_are_served_inline_and_only_from_the_theme(client_for):
    await make_world()
    client = client_for("a.test")
    logo = await client.get("/theme/skyline/logo.svg")
    assert logo.status_code == 200 and logo.headers["content-type"].startswith("image/svg+xml")
    assert (await client.get("/theme/skyline/../theme.toml")).status_code == 404
    assert (await client.get("/theme/skyline/%2e%2e/theme.toml")).status_code == 404
    assert (await client.get("/theme/nope/logo.svg")).status_code == 404
    assert (await client.get("/static/portal.css")).status_code == 200
