"""An image captcha generated on this server (no third-party service): challenge in Redis, single use."""

from __future__ import annotations

import asyncio
import secrets

from captcha.image import ImageCaptcha
from redis.asyncio import Redis

# No 0/O, 1/I/L, 5/S: people misread them in a distorted image.
ALPHABET = "ABCDEFGHJKMNPQRTUVWXYZ2346789"
LENGTH = 5
TTL_SECONDS = 600
_generator = ImageCaptcha(width=200, height=70)


def _key(challenge_id: str) -> str:
    return f"captcha:{challenge_id}"


def _text(stored: bytes | str | None) -> str | None:
    """A stored answer as text; the portal's Redis client answers in bytes."""
    return stored.decode() if isinstance(stored, bytes) else stored


async def new_challenge(redis: Redis) -> str:
    challenge_id = secrets.token_urlsafe(16)
    answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    await redis.set(_key(challenge_id), answer, ex=TTL_SECONDS)
    return challenge_id


async def image(redis: Redis, challenge_id: str) -> bytes | None:
    """The PNG of a live challenge (drawn in a thread: Pillow work blocks), None when unknown or expired."""
    answer = _text(await redis.get(_key(challenge_id)))
    if answer is None:
        return None
    return await asyncio.to_thread(lambda: _generator.generate(answer).getvalue())


async def solved(redis: Redis, challenge_id: str, attempt: str) -> bool:
    """Check an answer; the challenge is spent either way, so a bot gets one guess per image."""
    answer = _text(await redis.getdel(_key(challenge_id or "-")))
    return answer is not None and secrets.compare_digest(answer, attempt.strip().upper())
