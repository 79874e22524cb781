"""Sign-in and sessions (ACC-2, ACC-7): the happy path and the abuse cases."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import jwt

from core.accounts.tables import User
from tests.factories import PASSWORD, api_token, make_world, post_form, sign_in


async def test_sign_in_reaches_the_dashboard_and_sign_out_ends_the_session(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    response = await sign_in(client, world.a.end_user_admin)
    assert response.status_code in (302, 303) and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "portal_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    dashboard = await client.get("/")
    assert dashboard.status_code == 200 and "Company A" in dashboard.text and "1,000.00" not in dashboard.text
    old_session = client.cookies.get("portal_session")
    await post_form(client, "/logout")
    assert (await client.get("/")).status_code in (302, 303)
    replay = client_for(world.a.host)
    replay.cookies.set("portal_session", old_session, domain=world.a.host)
    assert (await replay.get("/")).headers["location"].startswith("/login")


async def test_wrong_password_and_unknown_email_get_the_same_answer(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    wrong = await sign_in(client, world.a.end_user_admin, "not-the-password")
    unknown = await sign_in(client, "nobody@a.test")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong e-mail or password" in wrong.text and "Wrong e-mail or password" in unknown.text
    assert 'value="nobody@a.test"' in unknown.text  # the e-mail is kept, the password is not


async def test_lockout_after_repeated_failures_even_with_the_right_password(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    for _ in range(5):
        assert (await sign_in(client, world.a.end_user_admin, "guess")).status_code == 400
    locked = await sign_in(client, world.a.end_user_admin)
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.text
    assert "portal_session" not in client.cookies
    # Another account on the same portal is not locked by these failures.
    assert (await sign_in(client_for(world.a.host, ip="10.1.1.1"), world.a.end_user_operator)).status_code == 302


async def test_form_without_csrf_token_is_refused(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await client.get("/login")
    response = await client.post("/login", data={"email": world.a.end_user_admin, "password": PASSWORD})
    assert response.status_code == 403
    assert "portal_session" not in client.cookies


async def test_session_fixation_a_planted_cookie_is_replaced(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    client.cookies.set("portal_session", "attacker-chosen-value", domain=world.a.host)
    await sign_in(client, world.a.end_user_admin)
    assert client.cookies.get("portal_session") not in (None, "attacker-chosen-value")
    first = client.cookies.get("portal_session")
    await sign_in(client, world.a.end_user_admin)
    assert client.cookies.get("portal_session") != first


async def test_next_parameter_never_redirects_off_site(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await client.get("/login")
    for target, expected in [
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil", "/"),
        ("/account", "/account"),
    ]:
        response = await client.post(
            "/login",
            data={
                "email": world.a.end_user_admin,
                "password": PASSWORD,
                "next": target,
                "_csrf_token": client.cookies["csrftoken"],
            },
        )
        assert response.headers["location"] == expected, target


async def test_users_sign_in_only_on_their_own_portal(client_for):
    world = await make_world()
    assert (await sign_in(client_for(world.b.host), world.a.end_user_admin)).status_code == 400
    assert (await sign_in(client_for(world.owner_host), world.a.end_user_admin)).status_code == 400
    # A reseller signs in on the portal it owns.
    assert (await sign_in(client_for(world.a.host), world.a.reseller_admin)).status_code == 302


async def test_a_session_cookie_from_one_portal_is_useless_on_another(client_for):
    world = await make_world()
    a = client_for(world.a.host)
    await sign_in(a, world.a.reseller_admin)
    b = client_for(world.b.host)
    b.cookies.set("portal_session", a.cookies["portal_session"], domain=world.b.host)
    assert (await b.get("/")).status_code in (302, 303)


async def test_blocking_a_partner_locks_out_its_whole_subtree(client_for):
    world = await make_world()
    user = client_for(world.a.host)
    await sign_in(user, world.a.end_user_admin)
    owner = client_for(world.owner_host)
    headers = await api_token(owner, "owner@main.test")
    await owner.patch(f"/api/admin/partners/{world.a.reseller_id}", headers=headers, json={"blocked": True})
    assert (await user.get("/")).status_code in (302, 303)  # the open session stops working at once
    assert (await sign_in(client_for(world.a.host), world.a.end_user_admin)).status_code == 400


async def test_html_in_names_is_escaped(client_for):
    world = await make_world()
    await User.update({User.first_name: "<script>alert(1)</script>"}).where(User.email == world.a.end_user_admin)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = (await client.get("/")).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_api_token_login_and_refusals(client_for, settings):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.reseller_admin)
    assert (await client.get("/api/admin/partners", headers=headers)).status_code == 200
    assert (await client.get("/api/admin/partners")).status_code == 401
    assert (await client_for(world.b.host).get("/api/admin/partners", headers=headers)).status_code == 401
    wrong = base64.b64encode(f"{world.a.reseller_admin}:nope".encode()).decode()
    assert (await client.post("/api/auth/login", headers={"Authorization": f"Basic {wrong}"})).status_code == 401
    assert (await client.post("/api/auth/login", headers={"Authorization": "Basic !!!"})).status_code == 401
    expired = jwt.encode(
        {
            "sub": "1",
            "portal": world.a.portal_id,
            "aud": "campaign-portal-api",
            "exp": datetime.now(UTC) - timedelta(seconds=5),
        },
        settings.secret_key,
        algorithm="HS256",
    )
    response = await client.get("/api/admin/partners", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"].lower()
    forged = jwt.encode(
        {
            "sub": "1",
            "portal": world.a.portal_id,
            "aud": "campaign-portal-api",
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        "not-our-key",
        algorithm="HS256",
    )
    assert (await client.get("/api/admin/partners", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    # Cookies never authenticate the API: a signed-in browser session is not a token.
    await sign_in(client, world.a.reseller_admin)
    assert (await client.get("/api/admin/partners")).status_code == 401


async def test_end_users_have_no_admin_panel_and_operators_no_finance(client_for):
    world = await make_world()
    end_user = client_for(world.a.host)
    await sign_in(end_user, world.a.end_user_admin)
    assert (await end_user.get("/admin")).status_code == 404
    assert "Admin Panel" not in (await end_user.get("/")).text
    operator = client_for(world.a.host)
    await sign_in(operator, world.a.reseller_operator)
    assert (await operator.get("/admin/partners")).status_code == 200
    partner_page = await operator.get(f"/admin/partners/{world.a.end_user_id}")
    assert "Adjust balance" not in partner_page.text and "Ledger" not in partner_page.text
    refused = await post_form(
        operator, f"/admin/partners/{world.a.end_user_id}/balance", {"amount": "5", "reason": "operator try"}
    )
    assert refused.status_code == 403 and "Operators cannot change balances" in refused.text
    headers = await api_token(operator, world.a.reseller_operator)
    api = await operator.post(
        f"/api/admin/partners/{world.a.end_user_id}/balance-adjustments",
        headers=headers,
        json={"amount": "5", "reason": "operator try"},
    )
    assert api.status_code == 403
    assert (await operator.get(f"/api/admin/partners/{world.a.end_user_id}/ledger", headers=headers)).status_code == 403


async def test_passwords_are_stored_as_argon2_hashes(client_for):
    world = await make_world()
    client = client_for(world.owner_host)
    headers = await api_token(client, "owner@main.test")
    await client.post(
        f"/api/admin/partners/{world.a.end_user_id}/users",
        headers=headers,
        json={"email": "hash@a.test", "first_name": "H", "last_name": "S", "password": "plain-text-secret"},
    )
    row = await User.select(User.password_hash).where(User.email == "hash@a.test").first()
    assert row["password_hash"].startswith("$argon2id$") and "plain-text-secret" not in row["password_hash"]
    assert (await sign_in(client_for(world.a.host), "hash@a.test", "plain-text-secret")).status_code == 302
