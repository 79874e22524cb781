"""Account services: sign-in with lockout, the acting user, users of partners and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

import jwt
from redis.asyncio import Redis

from core.accounts.passwords import hash_password, verify_password
from core.accounts.schemas import ApiToken, ProfileUpdate, UserCreate, UserView
from core.accounts.tables import User
from core.db import write_transaction
from core.errors import Conflict, InvalidInput, PortalError, Unauthenticated
from core.settings import Settings
from core.tenancy import audit
from core.tenancy.resolver import PortalContext
from core.tenancy.schemas import Actor, Page
from core.tenancy.scope import require_admin, visible_partner
from core.tenancy.tables import Partner, PortalRecord

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
    if await Partner.exists().where(Partner.id.is_in(ancestor_ids) & (Partner.blocked == True)):  # noqa: E712
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
    )


async def authenticate(
    redis: Redis, settings: Settings, portal: PortalContext, email: str, password: str, ip: str
) -> Actor:
    """Check e-mail and password on this portal, counting failures per account and per address.

    Raises:
        LockedOut: too many recent failures; says when to try again.
        Unauthenticated: wrong e-mail or password (one message for both, so accounts cannot be probed).
    """
    email = email.strip().lower()
    account_key, ip_key = f"login_fail:{portal.id}:{email}", f"login_fail_ip:{ip}"
    window = settings.login_lockout_seconds
    failures = [int(v or 0) for v in await redis.mget(account_key, ip_key)]
    if failures[0] >= settings.login_max_failures or failures[1] >= settings.login_max_failures * 4:
        minutes = max(1, -(-int(max(await redis.ttl(account_key), await redis.ttl(ip_key))) // 60))
        raise LockedOut(f"Too many failed sign-in attempts. Try again in {minutes} minute(s).")
    user = await User.select(User.id, User.password_hash).where(User.email == email).first()
    ok = await verify_password(user["password_hash"] if user else None, password)
    actor = await load_actor(user["id"], portal.id) if ok and user else None
    if actor is None:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(account_key).expire(account_key, window).incr(ip_key).expire(ip_key, window)
            await pipe.execute()
        raise Unauthenticated("Wrong e-mail or password")
    await redis.delete(account_key)
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == actor.user_id)
    return actor


async def list_users(actor: Actor, partner_id: int, *, page: int = 1, per_page: int = 50) -> Page[UserView]:
    await visible_partner(actor, partner_id)
    total = await User.count().where(User.partner == partner_id)
    rows = (
        await User.select()
        .where(User.partner == partner_id)
        .order_by(User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(items=[_user_view(r) for r in rows], total=total, page=page, per_page=per_page)


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
        )
    return _user_view(await User.select().where(User.id == row.id).first())


def issue_api_token(settings: Settings, actor: Actor) -> ApiToken:
    expires = datetime.now(UTC) + timedelta(seconds=settings.api_token_ttl)
    claims = {"sub": str(actor.user_id), "portal": actor.portal_id, "exp": expires, "aud": TOKEN_AUDIENCE}
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
    return actor


async def update_profile(actor: Actor, data: ProfileUpdate) -> None:
    if data.timezone not in available_timezones():
        raise InvalidInput(f"Unknown time zone {data.timezone!r}", field="timezone")
    await User.update(
        {
            User.first_name: data.first_name,
            User.last_name: data.last_name,
            User.date_format: data.date_format,
            User.timezone: data.timezone,
            User.theme: data.theme,
        }
    ).where(User.id == actor.user_id)


async def set_theme(actor: Actor, theme: str) -> None:
    if theme not in ("light", "dark"):
        raise InvalidInput("Theme must be light or dark", field="theme")
    await User.update({User.theme: theme}).where(User.id == actor.user_id)
