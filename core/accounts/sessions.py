"""Server-side sessions in Redis: an opaque cookie token, a fresh one at every sign-in (no fixation)."""

from __future__ import annotations

import hashlib
import secrets

import msgspec
from redis.asyncio import Redis

COOKIE_NAME = "portal_session"


class SessionData(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    portal_id: int


def _key(token: str) -> str:
    # Only a digest of the token is stored, so a Redis dump does not hand out live sessions.
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


async def create(redis: Redis, data: SessionData, max_age: int) -> str:
    token = secrets.token_urlsafe(32)
    key = _key(token)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, msgspec.json.encode(data), ex=max_age)
        pipe.sadd(f"user_sessions:{data.user_id}", key)
        pipe.expire(f"user_sessions:{data.user_id}", max_age)
        await pipe.execute()
    return token


async def load(redis: Redis, token: str) -> SessionData | None:
    raw = await redis.get(_key(token))
    return msgspec.json.decode(raw, type=SessionData) if raw else None


async def destroy(redis: Redis, token: str) -> None:
    key = _key(token)
    raw = await redis.getdel(key)
    if raw:
        await redis.srem(f"user_sessions:{msgspec.json.decode(raw, type=SessionData).user_id}", key)


async def destroy_all(redis: Redis, user_id: int) -> None:
    """End every session of a user (blocked, password changed)."""
    keys = await redis.smembers(f"user_sessions:{user_id}")
    if keys:
        await redis.delete(*keys)
    await redis.delete(f"user_sessions:{user_id}")
