"""Which worker processes are alive: a Redis key per process, refreshed while it runs.

A batch claimed by a process whose key expired was abandoned mid-way (the process crashed or was killed):
the sweeper releases it or, when submission had begun, fails what has no recorded outcome (DSP-3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from redis.asyncio import Redis

log = logging.getLogger(__name__)

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
async def every(interval: float, action: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    """Await ``action()`` every ``interval`` seconds while the block runs (first after one interval).

    Stopped by an event, never by cancelling the task: redis-py can swallow a cancellation that lands inside a
    command, and the loop then ran on while its owner waited for it forever (seen as a hung test). A failing
    action is logged and tried again at the next tick.
    """
    stop = asyncio.Event()

    async def loop() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
                return
            try:
                await action()
            except Exception as exc:
                log.warning("periodic %s failed: %s", getattr(action, "__qualname__", action), exc)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task


@contextlib.asynccontextmanager
async def heartbeat(redis: Redis) -> AsyncIterator[str]:
    """Beat for this process while the block runs; yields the process's worker id."""

    async def beat() -> None:
        await redis.set(key(WORKER_ID), "1", ex=TTL_S)

    await beat()
    try:
        async with every(BEAT_S, beat):
            yield WORKER_ID
    finally:
        await redis.delete(key(WORKER_ID))
