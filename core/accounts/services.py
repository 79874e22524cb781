"""Account services: sign-in with lockout, the acting user, users of partners and API tokens."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

import jwt

from core.accounts import twofactor
from core.accounts.passwords import hash_password, password_problem, verify_password
from core.accounts.schemas import ApiToken, ProfileUpdate, UserCreate, UserView
from core.accounts.tables import User
from core.actor import Actor
from core.db import json_value, must_exist, write_transaction
from core.errors import Conflict, InvalidInput, PortalError, Unauthenticated
from core.mail.services import send_mail
from core.money import from_micros, to_micros
from core.portal import Portal
from core.settings import Settings
from core.tenancy import audit, short_domains
from core.tenancy.resolver import PortalContext
from core.tenancy.schemas import LANGUAGES
from core.tenancy.scope import of_visible_partner, require_admin, visible_partner
from core.tenancy.tables import Partner, PortalRecord
from core.web.i18n import N_
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

TOKEN_AUDIENCE = "campaign-portal-api"


class LockedOut(PortalError):
    status_code = 429


def _user_view(row: dict[str, Any]) -> UserView:
    return UserView(
        id=row["id"],
        partner_id=row["partner"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        role=row["role"],
        active=row["active"],
        language=row["language"],
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


async def _portal_allows(portal_id: int, partner: dict[str, Any]) -> bool:
    """Users sign in on their partner's portal, or on a portal their partner owns."""
    if partner["portal_id"] == portal_id:
        return True
    return await PortalRecord.exists().where((PortalRecord.id == portal_id) & (PortalRecord.partner == partner["id"]))


async def load_actor(user_id: int, portal_id: int, *, check_portal: bool = True) -> Actor | None:
    """The Actor of an active user; None when the user, its partner or an ancestor is blocked.

    ``check_portal`` is off only for the command line, which acts outside any portal.
    """
    # One query for the user and its partner: this runs on every signed-in request.
    user = (
        await User.select(
            *User.all_columns(),
            *(
                getattr(User.partner, name).as_alias(f"partner_{name}")
                for name in ("name", "kind", "path", "currency", "portal_id")
            ),
        )
        .where((User.id == user_id) & (User.active == True))  # noqa: E712
        .first()
    )
    if user is None:
        return None
    partner = {
        "id": user["partner"],
        **{k.removeprefix("partner_"): v for k, v in user.items() if k.startswith("partner_")},
    }
    ancestor_ids = [int(seg) for seg in partner["path"].strip("/").split("/")]
    chain = await Partner.select(Partner.id, Partner.kind, Partner.options, Partner.blocked).where(
        Partner.id.is_in(ancestor_ids)
    )
    if any(row["blocked"] for row in chain):
        return None
    if check_portal and not await _portal_allows(portal_id, partner):
        return None
    return Actor(
        user_id=user["id"],
        email=user["email"],
        first_name=user["first_name"],
        last_name=user["last_name"],
        role=user["role"],
        partner_id=partner["id"],
        partner_name=partner["name"],
        partner_kind=partner["kind"],
        partner_path=partner["path"],
        currency=partner["currency"],
        portal_id=portal_id,
        language=user["language"],
        theme=user["theme"],
        date_format=user["date_format"],
        timezone=user["timezone"],
        short_domains=await short_domains.usable_hosts(short_domains.allowed_by_chain(chain)),
    )


async def authenticate(portal: Portal, site: PortalContext, email: str, password: str, ip: str) -> Actor:
    """Check e-mail and password on this portal, counting failures per account and per address.

    Raises:
        LockedOut: too many recent failures; says when to try again.
        Unauthenticated: wrong e-mail or password (one message for both, so accounts cannot be probed).
    """
    email = email.strip().lower()
    await check_not_locked(portal, site, email, ip)
    user = await User.select(User.id, User.password_hash).where(User.email == email).first()
    ok = await verify_password(user["password_hash"] if user else None, password)
    actor = await load_actor(user["id"], site.id) if ok and user else None
    if actor is None:
        await count_failure(portal, site, email, ip)
        raise Unauthenticated("Wrong e-mail or password")
    if not site.require_2fa:
        # With 2FA the password is only half of it: the counter is cleared once the code was right too.
        await sign_in_succeeded(portal, site, actor, ip)
    return actor


async def sign_in_succeeded(portal: Portal, site: PortalContext, actor: Actor, ip: str) -> None:
    """Forget the account's failures and note the time of this sign-in."""
    await portal.redis.delete(_failure_keys(site, actor.email, ip)[0])
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == actor.user_id)


def _failure_keys(site: PortalContext, email: str, ip: str) -> tuple[str, str]:
    return f"login_fail:{site.id}:{email}", f"login_fail_ip:{ip}"


async def check_not_locked(portal: Portal, site: PortalContext, email: str, ip: str) -> None:
    """Raise LockedOut while the account or the address has too many recent failures."""
    account_key, ip_key = _failure_keys(site, email, ip)
    limit = portal.settings.login_max_failures
    failures = [int(v or 0) for v in await portal.redis.mget(account_key, ip_key)]
    if failures[0] >= limit or failures[1] >= limit * 4:
        seconds = max(await portal.redis.ttl(account_key), await portal.redis.ttl(ip_key), 1)
        raise LockedOut(f"Too many failed sign-in attempts. Try again in {-(-seconds // 60)} minute(s).")


async def count_failure(portal: Portal, site: PortalContext, email: str, ip: str, *, lock: bool = False) -> None:
    """Count a failed password or code; the failure that locks the account also tells its owner by e-mail."""
    account_key, ip_key = _failure_keys(site, email, ip)
    window, limit = portal.settings.login_lockout_seconds, portal.settings.login_max_failures
    async with portal.redis.pipeline(transaction=True) as pipe:
        if lock:
            pipe.set(account_key, limit, ex=window)
        else:
            pipe.incr(account_key)
            pipe.expire(account_key, window)
        pipe.incr(ip_key)
        pipe.expire(ip_key, window)
        results = await pipe.execute()
    failures = limit if lock else int(results[0])
    if failures == limit:
        owner = await User.select(User.first_name, User.language).where(User.email == email).first()
        if owner is not None:
            await send_mail(
                portal,
                to=email,
                template="account_locked",
                language=owner["language"],
                site=site,
                context={
                    "first_name": owner["first_name"],
                    "ip": ip,
                    "minutes": window // 60,
                    "when": datetime.now(UTC),
                },
            )


async def list_users(
    actor: Actor, partner_id: int, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[UserView]:
    where = await of_visible_partner(actor, User, partner_id)
    found = await paginate(User.select().order_by(User.id), where, page=page, per_page=per_page)
    return found.with_items([_user_view(r) for r in found.items])


async def create_user(actor: Actor, partner_id: int, data: UserCreate, *, ip: str = "") -> UserView:
    partner = await visible_partner(actor, partner_id)
    require_admin(actor, "create users")
    email = data.email.strip().lower()
    password_hash = await hash_password(data.password)
    async with write_transaction():
        if await User.exists().where(User.email == email):
            raise Conflict("A user with this e-mail already exists", field="email")
        row = User(
            partner=partner_id,
            email=email,
            password_hash=password_hash,
            first_name=data.first_name,
            last_name=data.last_name,
            role=data.role,
            language=data.language,
            created_at=datetime.now(UTC),
        )
        await row.save()
        await audit.record(
            actor,
            "user.create",
            f"Created {data.role} {email} of {partner['name']}",
            object_type="user",
            object_id=row.id,
            ip=ip,
            name=f"{data.first_name} {data.last_name}".strip() or email,
            variant=data.role,
            params={"partner": partner["name"]},
        )
    return _user_view(must_exist(await User.select().where(User.id == row.id).first()))


async def _password_mark(settings: Settings, user_id: int) -> str:
    """A keyed digest of the user's password hash: a token carrying it dies when the password changes.

    Keyed, because a token's claims are readable by whoever holds it, and the hash must not leak through them.
    """
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    stored = row["password_hash"] if row else ""
    return hmac.new(settings.secret_key.encode(), stored.encode(), hashlib.sha256).hexdigest()[:32]


async def issue_api_token(settings: Settings, actor: Actor) -> ApiToken:
    """A short-lived bearer token (ACC-6), valid until it expires or the user's password changes."""
    expires = datetime.now(UTC) + timedelta(seconds=settings.api_token_ttl)
    claims = {
        "sub": str(actor.user_id),
        "portal": actor.portal_id,
        "exp": expires,
        "aud": TOKEN_AUDIENCE,
        "pwd": await _password_mark(settings, actor.user_id),
    }
    return ApiToken(
        token=jwt.encode(claims, settings.secret_key, algorithm="HS256"),
        token_type="Bearer",
        expires_at=expires.replace(microsecond=0),
    )


async def actor_from_token(settings: Settings, token: str) -> Actor:
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=["HS256"], audience=TOKEN_AUDIENCE)
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"Invalid token: {exc}") from None
    actor = await load_actor(int(claims["sub"]), int(claims["portal"]))
    if actor is None:
        raise Unauthenticated("The token's user is blocked or removed")
    if not hmac.compare_digest(str(claims.get("pwd", "")), await _password_mark(settings, actor.user_id)):
        raise Unauthenticated("The password changed after this token was issued; sign in again")
    return actor


async def update_profile(actor: Actor, data: ProfileUpdate, custom: dict[str, str], site: PortalContext) -> None:
    """My account: names, date format, time zone, theme, language and the portal's custom fields."""
    if data.timezone not in available_timezones():
        raise InvalidInput(f"Unknown time zone {data.timezone!r}", field="timezone")
    if data.language not in site.languages:
        raise InvalidInput(N_("This portal does not offer that language"), field="language")
    values = await custom_fields(actor)
    for field in site.registration_fields:
        value = custom.get(field["key"], values.get(field["key"], "")).strip()[:200]
        if field.get("required") and not value:
            raise InvalidInput(f"{field['label']} is required", field=f"custom.{field['key']}")
        values[field["key"]] = value
    await User.update(
        {
            User.first_name: data.first_name,
            User.last_name: data.last_name,
            User.date_format: data.date_format,
            User.timezone: data.timezone,
            User.theme: data.theme,
            User.language: data.language,
            User.custom_fields: values,
            User.low_balance_alert: None if data.low_balance_alert is None else to_micros(data.low_balance_alert),
        }
    ).where(User.id == actor.user_id)


async def low_balance_alert(actor: Actor) -> Decimal | None:
    """The balance below which the user wants a warning on every page; None for no warning."""
    row = must_exist(await User.select(User.low_balance_alert).where(User.id == actor.user_id).first())
    return None if row["low_balance_alert"] is None else from_micros(row["low_balance_alert"])


async def custom_fields(actor: Actor) -> dict[str, str]:
    row = must_exist(await User.select(User.custom_fields).where(User.id == actor.user_id).first())
    return dict(json_value(row["custom_fields"]) or {})


async def change_password(actor: Actor, current: str, password: str, confirm: str) -> None:
    """Needs the current password; the caller ends the user's other sessions."""
    row = must_exist(await User.select(User.password_hash).where(User.id == actor.user_id).first())
    if not await verify_password(row["password_hash"], current):
        raise InvalidInput(N_("The current password is wrong"), field="current")
    if password != confirm:
        raise InvalidInput(N_("The two passwords differ"), field="password_confirm")
    problem = password_problem(password, actor.email)
    if problem:
        raise InvalidInput(problem, field="password")
    await User.update({User.password_hash: await hash_password(password)}).where(User.id == actor.user_id)


async def regenerate_totp(actor: Actor, current: str, code: str) -> str:
    """A new two-factor key, after the password and a current code of the old key (ACC-3)."""
    row = must_exist(await User.select(User.password_hash).where(User.id == actor.user_id).first())
    if not await verify_password(row["password_hash"], current):
        raise InvalidInput(N_("The current password is wrong"), field="current")
    if not await twofactor.needs_enrolment(actor.user_id) and not await twofactor.accept_code(actor.user_id, code):
        raise InvalidInput(N_("The code is wrong or was already used"), field="code")
    return await twofactor.regenerate(actor.user_id)


async def set_theme(actor: Actor, theme: str) -> None:
    if theme not in ("light", "dark"):
        raise InvalidInput("Theme must be light or dark", field="theme")
    await User.update({User.theme: theme}).where(User.id == actor.user_id)


async def set_language(actor: Actor, language: str) -> None:
    """The user's UI language (ACC-4, X-1); whether the portal offers it is the caller's check."""
    if language not in LANGUAGES:
        raise InvalidInput(f"Language must be one of {', '.join(LANGUAGES)}", field="language")
    await User.update({User.language: language}).where(User.id == actor.user_id)
