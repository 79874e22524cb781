"""``Idempotency-Key`` on /api/send_sms (API-4): the first answer to a key and body is kept 24 h and replayed.

The key is per API key. Two requests with the same key at once: one takes a Redis lock (SET NX) and sends,
the other waits for its answer, so the messages go out once. The same key with another body is refused (422).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from redis.asyncio import Redis
from redis.exceptions import LockError

from core.errors import Conflict, InvalidInput

KEEP_S = 24 * 3600
LOCK_S = 120  # longer than any request takes; a crashed holder's lock lapses after it
POLL_S = 0.02
PREFIX = "api:idem:"


class Stored(msgspec.Struct):
    fingerprint: str
    response: bytes


class Claim:
    """What ``claim`` found: a stored answer to replay, or the right to answer (then call ``keep``)."""

    def __init__(self, redis: Redis, name: str, fingerprint: str, replay: bytes | None) -> None:
        self._redis, self._name, self._fingerprint = redis, name, fingerprint
        self.replay = replay

    async def keep(self, response: bytes) -> None:
        await self._redis.set(self._name, msgspec.json.encode(Stored(self._fingerprint, response)), ex=KEEP_S)


def _name(key_id: int, idempotency_key: str) -> str:
    return f"{PREFIX}{key_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


async def _stored(redis: Redis, name: str, fingerprint: str) -> bytes | None:
    raw = await redis.get(name)
    if raw is None:
        return None
    stored = msgspec.json.decode(raw, type=Stored)
    if stored.fingerprint != fingerprint:
        raise InvalidInput("This Idempotency-Key was already used with another request body", field="Idempotency-Key")
    return stored.response


@asynccontextmanager
async def claim(redis: Redis, key_id: int, idempotency_key: str, body: bytes) -> AsyncIterator[Claim]:
    """Hold the key's lock while the block answers, unless an answer is stored already (``replay``).

    Raises:
        InvalidInput: the key was used with another body.
        Conflict: the request holding the key did not finish within LOCK_S.
    """
    if not idempotency_key.strip() or len(idempotency_key) > 255:
        raise InvalidInput("Idempotency-Key must have 1 to 255 characters", field="Idempotency-Key")
    name = _name(key_id, idempotency_key)
    fingerprint = hashlib.sha256(body).hexdigest()
    # A token lock: released only by its holder, so a holder that outlived LOCK_S never frees its successor's lock.
    lock = redis.lock(name + ":lock", timeout=LOCK_S)
    deadline = asyncio.get_running_loop().time() + LOCK_S
    while True:
        found = await _stored(redis, name, fingerprint)
        if found is not None:
            yield Claim(redis, name, fingerprint, found)
            return
        if await lock.acquire(blocking=False):
            break
        if asyncio.get_running_loop().time() > deadline:
            raise Conflict("A request with this Idempotency-Key is still in progress", field="Idempotency-Key")
        await asyncio.sleep(POLL_S)
    try:
        # The holder before us may have stored its answer between our read and our lock.
        found = await _stored(redis, name, fingerprint)
        yield Claim(redis, name, fingerprint, found)
    finally:
        with contextlib.suppress(LockError):
            await lock.release()
