"""Two-factor sign-in (ACC-3): enrolment, one use per code, limited attempts, a new key under Security."""

from __future__ import annotations

import base64
import re
import time

import pyotp

from core.accounts.tables import User
from tests.factories import PASSWORD, csrf, make_world, outbox, post_form, set_portal_flags, sign_in


async def enrol(client, email):
    """Password, then the enrolment page: returns the secret it shows."""
    response = await sign_in(client, email)
    assert response.headers["location"] == "/login/2fa"
    page = await client.get("/login/2fa")
    assert "<svg" in page.text and "Set up two-factor sign-in" in page.text
    return re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)


async def send_code(client, code):
    return await client.post("/login/2fa", data={"code": code, "_csrf_token": csrf(client)})


async def test_first_sign_in_enrols_then_every_sign_in_asks_for_a_fresh_code(client_for):
    world = await make_world()
    await set_portal_flags(world.a.portal_id, require_2fa=True)
    client = client_for(world.a.host)
    secret = await enrol(client, world.a.end_user_admin)
    mails = await outbox(world.a.end_user_admin, "totp_secret")
    assert len(mails) == 1 and secret in mails[0]["text_body"]
    assert (await client.get("/")).status_code == 302  # no session before the code
    totp = pyotp.TOTP(secret)
    wrong = await send_code(client, "000000" if totp.now() != "000000" else "111111")
    assert wrong.status_code == 400 and "Attempts left: 4." in wrong.text
    code = totp.now()
    done = await send_code(client, code)
    assert done.status_code == 302 and done.headers["location"] == "/"
    assert (await client.get("/")).status_code == 200
    # Next sign-in: no QR code any more, and the code just used is refused.
    again = client_for(world.a.host)
    await sign_in(again, world.a.end_user_admin)
    page = await again.get("/login/2fa")
    assert "<svg" not in page.text and secret not in page.text and "Enter your code" in page.text
    reused = await send_code(again, code)
    assert reused.status_code == 400 and "already used" in reused.text
    later = totp.at(time.time() + 30)  # the next step is inside the allowed drift
    assert (await send_code(again, later)).status_code == 302
    assert len(await outbox(world.a.end_user_admin, "totp_secret")) == 1  # the key is mailed once


async def test_code_page_needs_the_password_step_first(client_for):
    world = await make_world()
    await set_portal_flags(world.a.portal_id, require_2fa=True)
    client = client_for(world.a.host)
    assert (await client.get("/login/2fa")).headers["location"] == "/login"
    await client.get("/login")
    assert (await send_code(client, "123456")).headers["location"] == "/login"


async def test_guessing_codes_locks_the_account_and_tells_its_owner(client_for):
    world = await make_world()
    await set_portal_flags(world.a.portal_id, require_2fa=True)
    client = client_for(world.a.host)
    secret = await enrol(client, world.a.end_user_admin)
    right = pyotp.TOTP(secret).now()
    for attempt in range(5):
        response = await send_code(client, f"{(int(right) + 1 + attempt) % 1_000_000:06d}")
    assert response.headers["location"] == "/login?done=locked"
    locked = await sign_in(client_for(world.a.host), world.a.end_user_admin)
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.text
    mails = await outbox(world.a.end_user_admin, "account_locked")
    assert len(mails) == 1 and "127.0.0.1" in mails[0]["text_body"]


async def test_password_guessing_mails_the_owner_once(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    for _ in range(6):
        await sign_in(client, world.a.end_user_admin, "guess-guess-1")
    assert len(await outbox(world.a.end_user_admin, "account_locked")) == 1
    for _ in range(6):
        await sign_in(client, "nobody@a.test", "guess-guess-1")
    assert await outbox("nobody@a.test") == []


async def test_api_token_on_a_2fa_portal_needs_the_current_code(client_for):
    world = await make_world()
    await set_portal_flags(world.a.portal_id, require_2fa=True)
    client = client_for(world.a.host)
    basic = {"Authorization": "Basic " + base64.b64encode(f"{world.a.reseller_admin}:{PASSWORD}".encode()).decode()}
    not_enrolled = await client.post("/api/auth/login", headers=basic)
    assert not_enrolled.status_code == 401 and "browser first" in not_enrolled.json()["detail"]
    secret = await enrol(client, world.a.reseller_admin)
    await send_code(client, pyotp.TOTP(secret).now())
    missing = await client.post("/api/auth/login", headers=basic)
    assert missing.status_code == 401 and "X-OTP-Code" in missing.json()["detail"]
    fresh = pyotp.TOTP(secret).at(time.time() + 30)
    ok = await client.post("/api/auth/login", headers={**basic, "X-OTP-Code": fresh})
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"


async def test_security_tab_regenerates_the_key_with_password_and_code(client_for):
    world = await make_world()
    await set_portal_flags(world.a.portal_id, require_2fa=True)
    client = client_for(world.a.host)
    old = await enrol(client, world.a.end_user_admin)
    # One code for both: a second now() may fall in the next 30-s step and be a fresh, unused code.
    used = pyotp.TOTP(old).now()
    await send_code(client, used)
    page = await client.get("/account/security")
    assert "Generate a new key" in page.text
    bad_password = await post_form(client, "/account/2fa", {"current": "nope", "code": "123456"})
    assert bad_password.status_code == 422 and "current password is wrong" in bad_password.text
    reused = await post_form(client, "/account/2fa", {"current": PASSWORD, "code": used})
    assert reused.status_code == 422 and "already used" in reused.text
    fresh = pyotp.TOTP(old).at(time.time() + 30)
    done = await post_form(client, "/account/2fa", {"current": PASSWORD, "code": fresh})
    new = re.search(r'data-testid="new-totp-secret">([A-Z2-7]+)<', done.text).group(1)
    assert (
        new != old
        and (await User.select(User.totp_secret).where(User.email == world.a.end_user_admin).first())["totp_secret"]
        == new
    )
    again = client_for(world.a.host)
    await sign_in(again, world.a.end_user_admin)
    assert (await send_code(again, pyotp.TOTP(old).at(time.time() + 60))).status_code == 400
    assert (await send_code(again, pyotp.TOTP(new).now())).status_code == 302


async def test_password_change_keeps_this_session_and_ends_the_others(client_for):
    world = await make_world()
    here, elsewhere = client_for(world.a.host), client_for(world.a.host)
    await sign_in(here, world.a.end_user_admin)
    await sign_in(elsewhere, world.a.end_user_admin)
    wrong = await post_form(
        here,
        "/account/password",
        {"current": "nope", "password": "new-password-12", "password_confirm": "new-password-12"},
    )
    assert wrong.status_code == 422 and "current password is wrong" in wrong.text
    weak = await post_form(
        here, "/account/password", {"current": PASSWORD, "password": "weakweakweak", "password_confirm": "weakweakweak"}
    )
    assert weak.status_code == 422 and "one digit" in weak.text
    done = await post_form(
        here,
        "/account/password",
        {"current": PASSWORD, "password": "new-password-12", "password_confirm": "new-password-12"},
    )
    assert done.headers["location"] == "/account/security?saved=password"
    assert (await here.get("/account/security")).status_code == 200
    assert (await elsewhere.get("/")).status_code == 302
    assert (await sign_in(client_for(world.a.host), world.a.end_user_admin, "new-password-12")).status_code == 302


async def test_guessing_codes_through_the_api_locks_the_account_too(client_for):
    world = await make_world()
    await set_portal_flags(world.a.portal_id, require_2fa=True)
    client = client_for(world.a.host)
    secret = await enrol(client, world.a.reseller_admin)
    await send_code(client, pyotp.TOTP(secret).now())
    basic = {"Authorization": "Basic " + base64.b64encode(f"{world.a.reseller_admin}:{PASSWORD}".encode()).decode()}
    for _ in range(5):
        assert (await client.post("/api/auth/login", headers={**basic, "X-OTP-Code": "000000"})).status_code == 401
    locked = await client.post("/api/auth/login", headers={**basic, "X-OTP-Code": pyotp.TOTP(secret).now()})
    assert locked.status_code == 429 and "Too many failed" in locked.json()["detail"]


async def test_last_sign_in_is_recorded(client_for):
    world = await make_world()
    assert (await User.select(User.last_login_at).where(User.email == world.a.end_user_admin).first())[
        "last_login_at"
    ] is None
    await sign_in(client_for(world.a.host), world.a.end_user_admin)
    assert (await User.select(User.last_login_at).where(User.email == world.a.end_user_admin).first())[
        "last_login_at"
    ] is not None
