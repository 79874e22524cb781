"""Issue 17, finding 11: a bearer token dies with the password it was issued under."""

from __future__ import annotations

from tests.factories import PASSWORD, api_token, make_world, post_form, sign_in

NEW_PASSWORD = "a-brand-new-passphrase-41"


async def test_changing_the_password_revokes_the_bearer_tokens_issued_before(client_for):
    world = await make_world()
    api = client_for(world.a.host)
    before = await api_token(api, world.a.reseller_admin)
    assert (await api.get("/api/admin/partners", headers=before)).status_code == 200

    browser = client_for(world.a.host)
    await sign_in(browser, world.a.reseller_admin)
    changed = await post_form(
        browser,
        "/account/password",
        {"current": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert changed.status_code in (302, 303), changed.text

    refused = await api.get("/api/admin/partners", headers=before)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The password changed after this token was issued; sign in again"
    after = await api_token(api, world.a.reseller_admin, NEW_PASSWORD)
    assert (await api.get("/api/admin/partners", headers=after)).status_code == 200
