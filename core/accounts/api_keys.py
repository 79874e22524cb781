"""API keys of a partner (ACC-6, API-1): shown once, stored as a hash, expiring, last use kept in Redis."""

from __future__ import annotations

import hashlib
import secrets
import time
from calendar import monthrange
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta
from redis.asyncio import Redis

from core.accounts.callback_urls import check_callback_url
from core.accounts.tables import ApiKey
from core.actor import Actor
from core.db import must_exist, write_transaction
from core.errors import Conflict, NotFound, Unauthenticated
from core.tenancy import audit
from core.tenancy.schemas import Url
from core.tenancy.scope import owned, require_admin
from core.web.i18n import N_

KEY_PREFIX = "cpk_"
Period = Literal["1d", "7d", "30d", "3m", "1y", "never"]
PERIOD_LABELS = {
    "1d": N_("1 day"),
    "7d": N_("7 days"),
    "30d": N_("30 days"),
    "3m": N_("3 months"),
    "1y": N_("1 year"),
    "never": N_("Never"),
}
_USED = "api_key_used:"


class ApiKeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=60)]
    callback_url: Url = ""
    period: Period = "30d"


class ApiKeyView(msgspec.Struct, kw_only=True):
    id: int
    name: str
    prefix: str
    status: Literal["Active", "Expired"]
    period: Period
    expires_at: datetime | None
    last_used_at: datetime | None
    callback_url: str
    click_callbacks: bool = False
    created_at: datetime


class ApiKeyCreated(msgspec.Struct, kw_only=True):
    """The only time the key itself (and its callback secret) is shown."""

    key: str
    callback_secret: str
    api_key: ApiKeyView


class CallbackUrlIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A key's status callback URL; empty stops its callbacks. ``click_callbacks`` also posts the clicks on the
    company's short links there (left as it is when omitted)."""

    callback_url: Url
    click_callbacks: bool | None = None


class CallbackSecret(msgspec.Struct, kw_only=True):
    """A key's new callback secret, shown once: callbacks are signed with it from now on."""

    callback_secret: str


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def expiry(period: str, start: datetime) -> datetime | None:
    """When a key made (or refreshed) at ``start`` expires."""
    days = {"1d": 1, "7d": 7, "30d": 30}.get(period)
    if days:
        return start + timedelta(days=days)
    if period == "3m":
        return _add_months(start, 3)
    if period == "1y":
        return _add_months(start, 12)
    return None


def new_callback_secret() -> str:
    return "cbs_" + secrets.token_hex(24)


def _digest(key: str) -> str:
    # Keys are 32 random bytes: a plain SHA-256 is enough, no slow hash needed to resist guessing.
    return hashlib.sha256(key.encode()).hexdigest()


def _view(row: dict[str, Any], used: float | None) -> ApiKeyView:
    last_used = row["last_used_at"]
    if used is not None:
        last_used = datetime.fromtimestamp(used, UTC)
    expired = row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC)
    return ApiKeyView(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        status="Expired" if expired else "Active",
        period=row["period"],
        expires_at=row["expires_at"],
        last_used_at=last_used,
        callback_url=row["callback_url"],
        click_callbacks=row["click_callbacks"],
        created_at=row["created_at"],
    )


async def list_keys(actor: Actor, redis: Redis) -> list[ApiKeyView]:
    require_admin(actor, "manage API keys")
    rows = await ApiKey.select().where(owned(ApiKey, actor)).order_by(ApiKey.id)
    used = await redis.mget([_USED + str(r["id"]) for r in rows]) if rows else []
    return [_view(r, float(u) if u else None) for r, u in zip(rows, used, strict=True)]


async def _own(actor: Actor, key_id: int) -> dict[str, Any]:
    require_admin(actor, "manage API keys")
    row = await ApiKey.select().where((ApiKey.id == key_id) & owned(ApiKey, actor)).first()
    if row is None:
        raise NotFound("API key")
    return row


async def create_key(actor: Actor, data: ApiKeyCreate, *, allow_private: bool = False, ip: str = "") -> ApiKeyCreated:
    """Make a key; ``allow_private`` is the owner's setting that lets callbacks reach internal addresses."""
    require_admin(actor, "manage API keys")
    if data.callback_url:
        await check_callback_url(data.callback_url, allow_private=allow_private)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    secret = new_callback_secret()
    now = datetime.now(UTC)
    async with write_transaction():
        if await ApiKey.exists().where(owned(ApiKey, actor) & (ApiKey.name == data.name)):
            raise Conflict(f"An API key named {data.name!r} already exists", field="name")
        row = ApiKey(
            partner=actor.partner_id,
            name=data.name,
            prefix=key[:12],
            key_hash=_digest(key),
            callback_url=data.callback_url,
            callback_secret=secret,
            period=data.period,
            expires_at=expiry(data.period, now),
            created_by=actor.user_id,
            created_at=now,
        )
        await row.save()
        await audit.record(
            actor,
            "api_key.create",
            f"Created API key {data.name!r}",
            object_type="api_key",
            object_id=row.id,
            ip=ip,
            name=data.name,
        )
    stored = must_exist(await ApiKey.select().where(ApiKey.id == row.id).first())
    return ApiKeyCreated(key=key, callback_secret=secret, api_key=_view(stored, None))


async def get_key(actor: Actor, redis: Redis, key_id: int) -> ApiKeyView:
    row = await _own(actor, key_id)
    used = await redis.get(_USED + str(key_id))
    return _view(row, float(used) if used else None)


async def set_callback_url(
    actor: Actor, key_id: int, data: CallbackUrlIn, *, allow_private: bool = False, ip: str = ""
) -> ApiKeyView:
    """Change where a key's status callbacks go, and whether clicks go there too; callbacks already queued keep the
    URL they were made for."""
    row = await _own(actor, key_id)
    if data.callback_url:
        await check_callback_url(data.callback_url, allow_private=allow_private)
    clicks = row["click_callbacks"] if data.click_callbacks is None else data.click_callbacks
    async with write_transaction():
        await ApiKey.update({ApiKey.callback_url: data.callback_url, ApiKey.click_callbacks: clicks}).where(
            ApiKey.id == key_id
        )
        await audit.record(
            actor,
            "api_key.callback",
            f"Set the callback URL of API key {row['name']!r} to {data.callback_url or 'none'}",
            object_type="api_key",
            object_id=key_id,
            ip=ip,
            name=row["name"],
            changed=audit.changes(
                {"callback_url": row["callback_url"], "click_callbacks": row["click_callbacks"]},
                {"callback_url": data.callback_url, "click_callbacks": clicks},
            ),
        )
    return _view(must_exist(await ApiKey.select().where(ApiKey.id == key_id).first()), None)


async def rotate_callback_secret(actor: Actor, key_id: int, *, ip: str = "") -> CallbackSecret:
    """Replace a key's callback secret; every callback sent from now on (retries too) is signed with the new one."""
    row = await _own(actor, key_id)
    secret = new_callback_secret()
    async with write_transaction():
        await ApiKey.update({ApiKey.callback_secret: secret}).where(ApiKey.id == key_id)
        await audit.record(
            actor,
            "api_key.rotate_secret",
            f"Rotated the callback secret of API key {row['name']!r}",
            object_type="api_key",
            object_id=key_id,
            ip=ip,
            name=row["name"],
        )
    return CallbackSecret(callback_secret=secret)


async def refresh_key(actor: Actor, key_id: int, *, ip: str = "") -> ApiKeyView:
    """Extend a key by its period, counted from now (an expired key comes back to life)."""
    row = await _own(actor, key_id)
    async with write_transaction():
        await ApiKey.update({ApiKey.expires_at: expiry(row["period"], datetime.now(UTC))}).where(ApiKey.id == key_id)
        await audit.record(
            actor,
            "api_key.refresh",
            f"Refreshed API key {row['name']!r}",
            object_type="api_key",
            object_id=key_id,
            ip=ip,
            name=row["name"],
        )
    return _view(must_exist(await ApiKey.select().where(ApiKey.id == key_id).first()), None)


async def remove_key(actor: Actor, key_id: int, *, ip: str = "") -> None:
    row = await _own(actor, key_id)
    async with write_transaction():
        await ApiKey.delete().where(ApiKey.id == key_id)
        await audit.record(
            actor,
            "api_key.remove",
            f"Removed API key {row['name']!r}",
            object_type="api_key",
            object_id=key_id,
            ip=ip,
            name=row["name"],
        )


async def key_owner(key: str) -> tuple[int, int]:
    """The key's id and the user it acts for.

    Raises:
        Unauthenticated: unknown, removed or expired key.
    """
    row = (
        await ApiKey.select(ApiKey.id, ApiKey.expires_at, ApiKey.created_by)
        .where(ApiKey.key_hash == _digest(key))
        .first()
    )
    if row is None:
        raise Unauthenticated("Unknown or removed API key")
    if row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC):
        raise Unauthenticated("This API key has expired; refresh it under API keys")
    return row["id"], row["created_by"]


async def mark_used(redis: Redis, key_id: int) -> None:
    """Note an accepted request in Redis; the minute job writes it to the database (no write per request)."""
    await redis.set(_USED + str(key_id), time.time())


async def flush_usage(redis: Redis) -> int:
    """Write the last-use times gathered in Redis to the database; returns how many keys were written."""
    written = 0
    async for name in redis.scan_iter(match=_USED + "*", count=500):
        value = await redis.getdel(name)
        if value is None:
            continue
        key_id = int(name.decode().removeprefix(_USED))
        await ApiKey.update({ApiKey.last_used_at: datetime.fromtimestamp(float(value), UTC)}).where(ApiKey.id == key_id)
        written += 1
    return written
