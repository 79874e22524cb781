"""Issue 17, finding 11: a reseller cannot dress its portal in another brand's theme folder; the owner can."""

from __future__ import annotations

import shutil

from core.web.themes import TENANTS_DIR, load_theme
from tests.factories import api_token, make_world, sign_in


def portal_json(slug: str, theme: str) -> dict:
    return {"slug": slug, "brand_name": slug.title(), "hosts": [f"{slug}.test"], "theme": theme}


async def test_a_reseller_gets_shared_themes_and_its_own_folder_only(client_for):
    world = await make_world()
    reseller = client_for(world.a.host)
    headers = await api_token(reseller, world.a.reseller_admin)

    foreign = await reseller.post("/api/admin/portals", headers=headers, json=portal_json("summer", "skyline"))
    assert foreign.status_code == 422 and foreign.json()["field"] == "theme"
    assert foreign.json()["detail"] == "Unknown theme 'skyline'; available: default"
    browser = client_for(world.a.host)
    await sign_in(browser, world.a.reseller_admin)
    form = await browser.get("/admin/portals/new")
    assert form.status_code == 200 and ">default</option>" in form.text and ">skyline</option>" not in form.text

    # The portal whose slug names the folder owns it.
    own = await reseller.post("/api/admin/portals", headers=headers, json=portal_json("skyline", "skyline"))
    assert own.status_code == 201, own.text
    plain = await reseller.post("/api/admin/portals", headers=headers, json=portal_json("winter", "default"))
    assert plain.status_code == 201, plain.text
    moved = await reseller.patch(f"/api/admin/portals/{plain.json()['id']}", headers=headers, json={"theme": "skyline"})
    assert moved.status_code == 422 and moved.json()["field"] == "theme"

    owner = client_for(world.owner_host)
    owner_headers = await api_token(owner, "owner@main.test")
    chosen = await owner.post("/api/admin/portals", headers=owner_headers, json=portal_json("autumn", "skyline"))
    assert chosen.status_code == 201, chosen.text


async def test_a_theme_marked_shared_is_offered_to_every_reseller(client_for):
    folder = TENANTS_DIR / "test-shared-look"
    shutil.copytree(TENANTS_DIR / "default", folder)
    (folder / "theme.toml").write_text('brand_name = "Shared"\nshared = true\n')
    load_theme.cache_clear()
    try:
        world = await make_world()
        reseller = client_for(world.a.host)
        headers = await api_token(reseller, world.a.reseller_admin)
        created = await reseller.post(
            "/api/admin/portals", headers=headers, json=portal_json("spring", "test-shared-look")
        )
        assert created.status_code == 201, created.text
    finally:
        shutil.rmtree(folder)
        load_theme.cache_clear()
