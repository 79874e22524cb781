"""Self-registration (ACC-1) and password reset (ACC-2): the happy paths and the abuse cases."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from core.accounts.bootstrap import create_owner
from core.accounts.schemas import UserCreate
from core.accounts.tables import AccountToken, User
from core.db import json_value
from core.tenancy.schemas import PortalCreate
from core.tenancy.services import create_portal, same_name
from core.tenancy.tables import Partner
from tests.factories import PASSWORD, csrf, link_in, make_world, outbox, set_portal_flags, sign_in

GOOD = {
    "first_name": "Nadia",
    "last_name": "Novak",
    "company": "Novak Foods",
    "email": "nadia@novak.test",
    "password": "good-password-42",
    "password_confirm": "good-password-42",
    "consent": "on",
    "custom.vat_number": "LT123",
}


async def open_signup(world):
    await set_portal_flags(
        world.a.portal_id,
        self_registration=True,
        terms_url="https://a.test/terms",
        registration_fields=[{"key": "vat_number", "label": "VAT number", "required": True}],
    )


async def signup(client, redis_url, overrides=None, *, solve=True, host=None):
    """Fill the form as a person would: read the picture (here: its answer in Redis) and submit (with ``host``
    as the Host header of the submission, when given)."""
    page = await client.get("/signup")
    challenge = re.search(r'name="captcha_id" value="([^"]+)"', page.text).group(1)
    redis = Redis.from_url(redis_url)
    answer = (await redis.get(f"captcha:{challenge}")).decode()
    await redis.aclose()
    data = {
        **GOOD,
        "captcha_id": challenge,
        "captcha": answer.lower() if solve else "WRONG",
        "_csrf_token": csrf(client),
        **(overrides or {}),
    }
    headers = {"Host": host} if host else None
    return await client.post("/signup", data={k: v for k, v in data.items() if v is not None}, headers=headers)


async def reset_mails(to: str, count: int = 1) -> list[dict]:
    """The reset mails of ``to``, newest first, once there are ``count``: a job writes them after the answer."""
    deadline = time.monotonic() + 10
    while len(mails := await outbox(to, "reset_password")) < count:
        assert time.monotonic() < deadline, f"{len(mails)} of {count} reset mails to {to}"
        await asyncio.sleep(0.02)
    return mails


async def test_sign_up_is_closed_unless_the_portal_allows_it(client_for):
    world = await make_world()
    assert (await client_for(world.a.host).get("/signup")).status_code == 404
    assert "Create an account" not in (await client_for(world.a.host).get("/login")).text


async def test_sign_up_confirm_and_sign_in(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    page = await client.get("/signup")
    assert "VAT number *" in page.text and "At least 10 characters" in page.text and "Terms of service" in page.text
    image = await client.get(re.search(r'src="(/captcha/[^"]+)"', page.text).group(1))
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    done = await signup(client, redis_url)
    assert done.status_code == 200 and "Check your inbox" in done.text
    user = await User.select().where(User.email == "nadia@novak.test").first()
    partner = await Partner.select().where(Partner.id == user["partner"]).first()
    assert not user["active"] and user["role"] == "admin" and partner["kind"] == "end_user"
    assert partner["parent"] == world.a.reseller_id and partner["portal_id"] == world.a.portal_id
    assert json_value(user["custom_fields"]) == {"vat_number": "LT123"}
    # Not before the link is opened.
    assert (await sign_in(client_for(world.a.host), "nadia@novak.test", "good-password-42")).status_code == 400
    mail = (await outbox("nadia@novak.test", "confirm_signup"))[0]
    assert "Brand a" in mail["html_body"] and mail["subject"].startswith("Confirm your")
    link = link_in(mail["text_body"])
    confirmed = await client.get(link)
    assert confirmed.headers["location"] == "/login?done=confirmed"
    assert "Your account is active" in (await client.get("/login?done=confirmed")).text
    assert (await sign_in(client_for(world.a.host), "nadia@novak.test", "good-password-42")).status_code == 302
    reused = await client.get(link)
    assert reused.status_code == 400 and "already used" in reused.text


async def test_expired_and_unknown_confirmation_links(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    await signup(client, redis_url)
    link = link_in((await outbox("nadia@novak.test", "confirm_signup"))[0]["text_body"])
    await AccountToken.update({AccountToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        AccountToken.purpose == "confirm"
    )
    expired = await client.get(link)
    assert expired.status_code == 400 and "expired" in expired.text
    assert (await client.get("/signup/confirm?token=forged")).status_code == 400
    assert not (await User.select(User.active).where(User.email == "nadia@novak.test").first())["active"]


async def test_bad_sign_ups_store_nothing_and_name_the_problem(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    partners, users = await Partner.count(), await User.count()
    cases = [
        ({}, False, "captcha", "do not match"),
        ({"password_confirm": "other-password-42"}, True, "password_confirm", "differ"),
        ({"password": "short1", "password_confirm": "short1"}, True, "password", "at least 10"),
        ({"password": "onlyletters", "password_confirm": "onlyletters"}, True, "password", "one digit"),
        ({"consent": None}, True, "consent", "accept the terms"),
        ({"custom.vat_number": ""}, True, "custom.vat_number", "VAT number is required"),
        ({"first_name": "N" * 61}, True, "first_name", "at most 60 characters"),
        ({"email": "not-an-address"}, True, "email", "email"),
    ]
    for overrides, solve, field, text in cases:
        response = await signup(client, redis_url, overrides, solve=solve)
        assert response.status_code in (400, 409, 422), (field, response.status_code)
        assert text in response.text, (field, re.findall(r'role="alert">([^<]*)<', response.text))
        assert 'value="good-password-42"' not in response.text  # passwords are never sent back
    assert (await Partner.count(), await User.count()) == (partners, users)
    assert await outbox("nadia@novak.test") == []


async def test_a_spent_captcha_cannot_be_replayed(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    page = await client.get("/signup")
    challenge = re.search(r'name="captcha_id" value="([^"]+)"', page.text).group(1)
    redis = Redis.from_url(redis_url)
    answer = (await redis.get(f"captcha:{challenge}")).decode()
    await redis.aclose()
    data = {**GOOD, "captcha_id": challenge, "_csrf_token": csrf(client)}
    assert (await client.post("/signup", data={**data, "captcha": "NOPE1"})).status_code == 422
    again = await client.post("/signup", data={**data, "captcha": answer})
    assert again.status_code == 422 and not await User.exists().where(User.email == "nadia@novak.test")


async def test_known_email_gets_a_mail_not_a_revealing_page(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    response = await signup(client, redis_url, {"email": world.b.end_user_admin, "company": "Copycat"})
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert not await Partner.exists().where(Partner.name == "Copycat")
    mails = await outbox(world.b.end_user_admin)
    assert [m["template"] for m in mails] == ["signup_existing"] and "/password/forgot" in mails[0]["text_body"]


async def test_a_taken_company_name_is_not_revealed(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    taken = await Partner.select(Partner.name).where(Partner.id == world.a.end_user_id).first()
    fresh = await signup(client, redis_url, {"email": "fresh@x.test", "company": "Nobody Has This Name"})
    clash = await signup(client, redis_url, {"email": "clash@x.test", "company": taken["name"].upper()})
    assert clash.status_code == fresh.status_code == 200 and "Check your inbox" in clash.text
    assert [m["template"] for m in await outbox("clash@x.test")] == ["confirm_signup"]
    assert await Partner.count().where(same_name(taken["name"])) == 2


async def test_sign_ups_are_rate_limited_per_address(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host, ip="10.9.9.9")
    for i in range(5):
        ok = await signup(client, redis_url, {"email": f"p{i}@x.test", "company": f"Co {i}"})
        assert ok.status_code == 200
    limited = await signup(client, redis_url, {"email": "p9@x.test", "company": "Co 9"})
    assert limited.status_code == 429 and "Too many sign-ups" in limited.text
    assert not await User.exists().where(User.email == "p9@x.test")


async def test_password_reset_ends_every_session(client_for):
    world = await make_world()
    first, second = client_for(world.a.host), client_for(world.a.host)
    await sign_in(first, world.a.end_user_admin)
    await sign_in(second, world.a.end_user_admin)
    anonymous = client_for(world.a.host)
    await anonymous.get("/password/forgot")
    unknown = await anonymous.post("/password/forgot", data={"email": "ghost@a.test", "_csrf_token": csrf(anonymous)})
    known = await anonymous.post(
        "/password/forgot", data={"email": world.a.end_user_admin, "_csrf_token": csrf(anonymous)}
    )
    assert unknown.text.count("If this address has an account") == known.text.count("If this address has an account")
    link = link_in((await reset_mails(world.a.end_user_admin))[0]["text_body"])
    assert await outbox("ghost@a.test") == []
    token = link.split("token=")[1]
    form = await anonymous.get(link)
    assert "Choose a new password" in form.text
    weak = await anonymous.post(
        "/password/reset",
        data={"token": token, "password": "weak", "password_confirm": "weak", "_csrf_token": csrf(anonymous)},
    )
    assert weak.status_code == 422 and "at least 10" in weak.text
    done = await anonymous.post(
        "/password/reset",
        data={
            "token": token,
            "password": "brand-new-pass-9",
            "password_confirm": "brand-new-pass-9",
            "_csrf_token": csrf(anonymous),
        },
    )
    assert done.headers["location"] == "/login?done=reset"
    assert (await first.get("/")).status_code == 302 and (await second.get("/")).status_code == 302
    assert (await sign_in(client_for(world.a.host), world.a.end_user_admin, PASSWORD)).status_code == 400
    assert (await sign_in(client_for(world.a.host), world.a.end_user_admin, "brand-new-pass-9")).status_code == 302
    reused = await anonymous.post(
        "/password/reset",
        data={
            "token": token,
            "password": "another-pass-77",
            "password_confirm": "another-pass-77",
            "_csrf_token": csrf(anonymous),
        },
    )
    assert reused.status_code == 422 and "already used" in reused.text


async def test_a_newer_reset_link_replaces_the_older_and_links_expire(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await client.get("/password/forgot")
    for count in (1, 2):
        await client.post("/password/forgot", data={"email": world.a.end_user_admin, "_csrf_token": csrf(client)})
        await reset_mails(world.a.end_user_admin, count)
    newer, older = [link_in(m["text_body"]) for m in await outbox(world.a.end_user_admin, "reset_password")]
    body = {"password": "brand-new-pass-9", "password_confirm": "brand-new-pass-9", "_csrf_token": csrf(client)}
    stale = await client.post("/password/reset", data={**body, "token": older.split("token=")[1]})
    assert stale.status_code == 422 and "replaced by a newer one" in stale.text
    await AccountToken.update({AccountToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        AccountToken.purpose == "reset"
    )
    expired = await client.post("/password/reset", data={**body, "token": newer.split("token=")[1]})
    assert expired.status_code == 422 and "expired" in expired.text
    assert (await sign_in(client_for(world.a.host), world.a.end_user_admin, PASSWORD)).status_code == 302


async def test_signing_up_again_before_confirming_sends_a_fresh_link(client_for, redis_url):
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    await signup(client, redis_url)
    first = link_in((await outbox("nadia@novak.test", "confirm_signup"))[0]["text_body"])
    await AccountToken.update({AccountToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        AccountToken.purpose == "confirm"
    )
    again = await signup(client, redis_url, {"company": "Novak Foods Again"})
    assert again.status_code == 200 and not await Partner.exists().where(Partner.name == "Novak Foods Again")
    fresh = link_in((await outbox("nadia@novak.test", "confirm_signup"))[0]["text_body"])
    assert fresh != first
    assert (await client.get(fresh)).headers["location"] == "/login?done=confirmed"


async def test_a_host_header_with_user_info_gets_400_and_no_mail(client_for, redis_url):
    """The probe's request: the portal's name, then '@' and another site, which a mail reader would open."""
    world = await make_world()
    await open_signup(world)
    client = client_for(world.a.host)
    await client.get("/password/forgot")
    poisoned = "a.test:@evil.example"
    forgot = await client.post(
        "/password/forgot",
        data={"email": world.a.end_user_admin, "_csrf_token": csrf(client)},
        headers={"Host": poisoned},
    )
    signed_up = await signup(client, redis_url, host=poisoned)
    assert forgot.status_code == signed_up.status_code == 400
    assert await outbox(world.a.end_user_admin) == [] and await outbox("nadia@novak.test") == []


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("evil.example", "https://solo.test"),
        ("solo.test:8443", "https://solo.test"),
        ("www.solo.test", "https://www.solo.test"),
    ],
)
async def test_every_mailed_link_is_on_a_configured_host_of_the_portal(client_for, redis_url, host, origin):
    """Reset, confirmation and "you already have an account" mails. A lone portal answers any Host (local runs),
    so a foreign name reaches its forms; the links still go to the host the portal was given (the request's own
    when it is one of them), with the scheme and port of the settings, never the request's."""
    owner = await create_owner(
        "Solo", "EUR", UserCreate(email="solo@solo.test", first_name="Sol", last_name="Solo", password=PASSWORD)
    )
    await create_portal(
        owner,
        PortalCreate(slug="solo", brand_name="Solo", hosts=["solo.test", "www.solo.test"], self_registration=True),
    )
    client = client_for(host)
    await client.get("/password/forgot")
    await client.post("/password/forgot", data={"email": "solo@solo.test", "_csrf_token": csrf(client)})
    await signup(client, redis_url, {"custom.vat_number": None})
    await signup(client, redis_url, {"custom.vat_number": None, "email": "solo@solo.test", "company": "Again"})
    mails = [
        (await reset_mails("solo@solo.test"))[0],
        (await outbox("nadia@novak.test", "confirm_signup"))[0],
        (await outbox("solo@solo.test", "signup_existing"))[0],
    ]
    for mail in mails:
        for body in (mail["text_body"], mail["html_body"]):
            assert set(re.findall(r"https?://[^/\s\"<]+", body)) == {origin}, body
    assert f"{origin}/password/reset?token=" in mails[0]["text_body"]
    assert f"{origin}/signup/confirm?token=" in mails[1]["text_body"]
    assert f"{origin}/login" in mails[2]["text_body"] and f"{origin}/password/forgot" in mails[2]["text_body"]
