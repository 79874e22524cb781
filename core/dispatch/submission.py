"""What a batch's submission has done so far, kept so that a killed worker fails only the truly unknown (DSP-3).

Two records, both written while the batch is submitting:
- which messages *may have left*: the channel announces each burst before its first byte is written
  (``SubmitProgress.leaving``). They go into a Redis set per batch — a round trip, where a database commit per
  burst would cost more than the burst. The set is opened with a marker before the batch turns "submitting",
  so a missing set (Redis lost its data) means "unknown", never "nothing left".
- what the vendor *answered*: results the channel hands over one by one (``SubmitProgress.answered``) are
  recorded in the database every FLUSH_S while the batch goes on, like the batch's final results.

After a crash the sweeper fails, unpaid, only the messages that may have left and have no recorded outcome;
the others go back to a ready batch and are sent by whoever claims it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from redis.asyncio import Redis

from core.providers import SendResult

PREFIX = "dispatch:leaving:"
MARKER = "0"  # never an EDR id; tells an opened, empty log from a lost one
KEEP_S = 7 * 24 * 3600  # outlives any outage of every worker; deleted as soon as the batch is done
FLUSH_S = 0.25


def _key(batch: int | str) -> str:
    # A campaign batch is its id; a public API request's log is named "api:<request id>", never clashing.
    return f"{PREFIX}{batch}"


async def open_log(redis: Redis, batch: int | str) -> None:
    """Start the batch's log; before anything of it may leave."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.sadd(_key(batch), MARKER)
        pipe.expire(_key(batch), KEEP_S)
        await pipe.execute()


async def close_log(redis: Redis, batch: int | str) -> None:
    await redis.delete(_key(batch))


async def may_have_left(redis: Redis, batch: int | str) -> set[int] | None:
    """The EDR ids of the batch that may have reached the vendor; None when the log is lost (assume all)."""
    members = await redis.smembers(_key(batch))
    if not members:
        return None
    return {int(m) for m in members} - {int(MARKER)}


class Progress:
    """The SubmitProgress the core hands a channel for one batch; ``record`` stores answered results."""

    def __init__(self, redis: Redis, batch: int | str, record: Callable[[list[SendResult]], Awaitable[None]]) -> None:
        self._redis = redis
        self._key = _key(batch)
        self._record = record
        self._answered: list[SendResult] = []
        self._stop = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def leaving(self, edr_ids: Sequence[int]) -> None:
        if edr_ids:
            await self._redis.sadd(self._key, *edr_ids)

    def answered(self, result: SendResult) -> None:
        self._answered.append(result)

    async def __aenter__(self) -> Progress:
        self._flusher = asyncio.create_task(self._flush_periodically())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Never cancelled mid-flush: a rolled-back flush would lose the results it had taken.
        self._stop.set()
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        if exc_type is not None and self._answered:
            # The batch ends without final results: what the vendor did answer is kept, not taken for unknown.
            taken, self._answered = self._answered, []
            await asyncio.shield(self._record(taken))

    async def _flush_periodically(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._stop.wait(), FLUSH_S)
                return  # the batch's final results record the rest
            except TimeoutError:
                pass
            if self._answered:
                taken, self._answered = self._answered, []
                await self._record(taken)
