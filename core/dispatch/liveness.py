"""Which worker processes are alive: a Redis key per process, refreshed while it runs.

A batch claimed by a process whose key expired was abandoned mid-way (the process crashed or was killed):
the sweeper releases it or, when submission had begun, fails what has no recorded outcome (DSP-3).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import Redis

TTL_S = 10
BEAT_S = 3
PREFIX = "dispatch:worker:"

WORKER_ID = uuid.uuid4().hex


def key(worker_id: str) -> str:
    return PREFIX + worker_id


async def alive(redis: Redis, worker_ids: set[str]) -> set[str]:
    """The ones among ``worker_ids`` whose process still beats."""
    ids = sorted(worker_ids)
    if not ids:
        return set()
    found = await redis.mget([key(w) for w in ids])
    return {w for w, value in zip(ids, found, strict=True) if value is not None}


@contextlib.asynccontextmanager
async def heartbeat(redis: Redis) -> AsyncIterator[str]:
    """Beat for this process while the block runs; yields the process's worker id."""

    async def beat() -> None:
        while True:
            await redis.set(key(WORKER_ID), "1", ex=TTL_S)
            await asyncio.sleep(BEAT_S)

    await redis.set(key(WORKER_ID), "1", ex=TTL_S)
    task = asyncio.create_task(beat())
    try:
        yield WORKER_ID
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await redis.delete(key(WORKER_ID))
