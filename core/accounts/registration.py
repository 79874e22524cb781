"""Self-registration with e-mail confirmation (ACC-1) and password reset by e-mail (ACC-2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.accounts import captcha, sessions, tokens
from core.accounts.passwords import hash_password, password_problem
from core.accounts.schemas import Email, PersonName
from core.accounts.services import load_actor
from core.accounts.tables import User
from core.actor import Actor
from core.db import must_exist, write_transaction
from core.errors import InvalidInput, NotFound, PortalError
from core.mail.services import send_mail
from core.portal import Portal
from core.tenancy import audit
from core.tenancy.resolver import PortalContext, absolute_url
from core.tenancy.schemas import PartnerCreate
from core.tenancy.services import insert_partner
from core.tenancy.tables import Partner
from core.web.i18n import N_

SIGNUPS_PER_IP_PER_HOUR = 5
RESETS_PER_HOUR = 5
RESET_TASK = "send_reset_link"


class TooMany(PortalError):
    status_code = 429


class SignUp(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    first_name: PersonName
    last_name: PersonName
    company: Annotated[str, Meta(min_length=1, max_length=120)]
    email: Email
    password: Annotated[str, Meta(max_length=200)]
    password_confirm: Annotated[str, Meta(max_length=200)]
    captcha_id: Annotated[str, Meta(max_length=64)] = ""
    captcha: Annotated[str, Meta(max_length=20)] = ""
    consent: bool = False
    language: Literal["en", "es", "ru", "tr"] = "en"
    custom: dict[Annotated[str, Meta(max_length=40)], Annotated[str, Meta(max_length=200)]] = {}


async def _limit(portal: Portal, key: str, limit: int, message: str) -> None:
    """Count one use of ``key`` within the hour; past ``limit`` the request is refused."""
    count = await portal.redis.incr(key)
    if count == 1:
        await portal.redis.expire(key, 3600)
    if count > limit:
        raise TooMany(message)


async def _check_limit(portal: Portal, key: str, limit: int, message: str) -> None:
    """Refuse when ``key`` already reached ``limit`` this hour, without counting this request."""
    if int(await portal.redis.get(key) or 0) >= limit:
        raise TooMany(message)


def check_new_password(password: str, confirm: str, email: str) -> None:
    if password != confirm:
        raise InvalidInput(N_("The two passwords differ"), field="password_confirm")
    problem = password_problem(password, email)
    if problem:
        raise InvalidInput(problem, field="password")


def _check_custom_fields(site_fields: Sequence[dict[str, Any]], values: dict[str, str]) -> dict[str, str]:
    known = {f["key"]: f for f in site_fields}
    for key in values:
        if key not in known:
            raise InvalidInput(f"Unknown field {key!r}", field=f"custom.{key}")
    for field in site_fields:
        if field.get("required") and not values.get(field["key"], "").strip():
            raise InvalidInput(f"{field['label']} is required", field=f"custom.{field['key']}")
    return {k: v.strip() for k, v in values.items()}


async def register(portal: Portal, site: PortalContext, data: SignUp, *, ip: str) -> None:
    """Create an end-user company and its first admin, inactive until the e-mailed link is opened.

    A known e-mail address gets a mail saying so instead, and the page answers as for a new account, and as
    fast, so the form cannot be used to find out who has an account.
    """
    if not site.self_registration:
        raise NotFound("Page")
    # Only sign-ups that went through count: the captcha already slows down guessing, and people mistype.
    limit_key, limit_text = f"signup_ip:{ip}", N_("Too many sign-ups from your network. Try again in an hour.")
    await _check_limit(portal, limit_key, SIGNUPS_PER_IP_PER_HOUR, limit_text)
    if not await captcha.solved(portal.redis, data.captcha_id, data.captcha):
        raise InvalidInput(N_("The characters from the picture do not match; try the new picture"), field="captcha")
    email = data.email.strip().lower()
    check_new_password(data.password, data.password_confirm, email)
    if (site.terms_url or site.consent_text) and not data.consent:
        raise InvalidInput(N_("Please accept the terms to create an account"), field="consent")
    custom = _check_custom_fields(site.registration_fields, data.custom)
    existing = await User.select(User.id, User.first_name, User.active).where(User.email == email).first()
    await _limit(portal, limit_key, SIGNUPS_PER_IP_PER_HOUR, limit_text)
    # Hashed whatever the branch: skipping the ~100 ms hash for a known address would tell it apart by time.
    password_hash = await hash_password(data.password)
    if existing is not None and not existing["active"]:
        # Signed up before but never confirmed (the link may have expired): send a fresh link.
        token = await tokens.issue(existing["id"], "confirm")
        await send_mail(
            portal,
            to=email,
            template="confirm_signup",
            language=data.language,
            site=site,
            context={
                "first_name": existing["first_name"],
                "link": absolute_url(portal.settings, site, f"/signup/confirm?token={token}"),
            },
        )
        return
    if existing is not None:
        await send_mail(
            portal,
            to=email,
            template="signup_existing",
            language=data.language,
            site=site,
            context={
                "first_name": existing["first_name"],
                "login_url": absolute_url(portal.settings, site, "/login"),
                "reset_url": absolute_url(portal.settings, site, "/password/forgot"),
            },
        )
        return
    parent = must_exist(await Partner.select().where(Partner.id == site.partner_id).first())
    async with write_transaction():
        partner_id = await insert_partner(
            parent, PartnerCreate(name=data.company, kind="end_user"), site.id, unique_name=False
        )
        user = User(
            partner=partner_id,
            email=email,
            password_hash=password_hash,
            first_name=data.first_name,
            last_name=data.last_name,
            role="admin",
            active=False,
            language=data.language,
            custom_fields=custom,
            created_at=datetime.now(UTC),
        )
        await user.save()
        partner = must_exist(await Partner.select(Partner.path).where(Partner.id == partner_id).first())
        newcomer = Actor(
            user_id=user.id,
            email=email,
            first_name=data.first_name,
            last_name=data.last_name,
            role="admin",
            partner_id=partner_id,
            partner_name=data.company,
            partner_kind="end_user",
            partner_path=partner["path"],
            currency=parent["currency"],
            portal_id=site.id,
        )
        await audit.record(
            newcomer,
            "account.signup",
            f"{email} signed up for {data.company!r} on {site.brand_name}",
            object_type="partner",
            object_id=partner_id,
            ip=ip,
            name=data.company,
        )
    token = await tokens.issue(user.id, "confirm")
    await send_mail(
        portal,
        to=email,
        template="confirm_signup",
        language=data.language,
        site=site,
        partner_id=partner_id,
        context={
            "first_name": data.first_name,
            "link": absolute_url(portal.settings, site, f"/signup/confirm?token={token}"),
        },
    )


async def confirm(token: str) -> str:
    """Activate the account of a confirmation link; returns its e-mail address."""
    user_id = await tokens.redeem(token, "confirm")
    await User.update({User.active: True}).where(User.id == user_id)
    row = must_exist(await User.select(User.email).where(User.id == user_id).first())
    return row["email"]


async def request_reset(portal: Portal, site: PortalContext, email: str, *, ip: str) -> None:
    """Queue the reset mail of ``email``; the answer is the same, and as fast, whether it has an account or not."""
    email = email.strip().lower()
    await _limit(portal, f"reset_ip:{ip}", RESETS_PER_HOUR * 4, N_("Too many requests. Try again in an hour."))
    await _limit(portal, f"reset_email:{email}", RESETS_PER_HOUR, N_("Too many requests. Try again in an hour."))
    # The look-up, the token and the mail run in a job: done here, a known address would answer measurably later.
    await portal.enqueue(RESET_TASK, site=msgspec.to_builtins(site), email=email)


async def mail_reset_link(portal: Portal, site: PortalContext, email: str) -> None:
    """Mail a reset link when ``email`` has an active account that may sign in on this portal; else nothing."""
    row = (
        await User.select(User.id, User.first_name, User.language)
        .where(
            (User.email == email) & (User.active == True)  # noqa: E712
        )
        .first()
    )
    if row is None or await load_actor(row["id"], site.id) is None:
        return
    token = await tokens.issue(row["id"], "reset")
    await send_mail(
        portal,
        to=email,
        template="reset_password",
        language=row["language"],
        site=site,
        context={
            "first_name": row["first_name"],
            "link": absolute_url(portal.settings, site, f"/password/reset?token={token}"),
        },
    )


async def reset_password(portal: Portal, token: str, password: str, confirm_password: str) -> str:
    """Set a new password from a reset link; every session of the user ends. Returns the e-mail address."""
    owner = must_exist(await User.select(User.email).where(User.id == await tokens.peek(token, "reset")).first())
    check_new_password(password, confirm_password, owner["email"])
    user_id = await tokens.redeem(token, "reset")
    await User.update({User.password_hash: await hash_password(password)}).where(User.id == user_id)
    await sessions.destroy_all(portal.redis, user_id)
    row = must_exist(await User.select(User.email).where(User.id == user_id).first())
    return row["email"]
