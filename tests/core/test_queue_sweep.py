"""The queue's sweep: a job a worker is taking is left alone; one lost with its worker is ended and queued again."""

from __future__ import annotations

import asyncio

import pytest
from saq import Status
from saq.utils import now

from core import queue as queue_module
from core.worker import make_queue


@pytest.fixture
async def queue(redis_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(queue_module, "TAKE_GRACE_S", 0.5)
    # A queue no worker of the suite serves, so only this test takes its jobs.
    queue = make_queue(redis_url, "sweep-test")
    # The suite's reset keeps saq's keys (its own workers report to them); this queue's are the test's to drop.
    stale = [key async for key in queue.redis.scan_iter("saq:*sweep-test*")]
    if stale:
        await queue.redis.delete(*stale)
    yield queue
    await queue.disconnect()


async def test_a_job_being_taken_is_not_swept(queue):
    await queue.enqueue("anything", key="import:3", retries=2)
    job = await queue.dequeue()  # in the active list, not yet marked active: what a worker sees for a moment
    assert job is not None and job.status == Status.QUEUED

    async def mark_active_a_moment_later() -> None:
        await asyncio.sleep(0.1)
        await job.update(status=Status.ACTIVE, started=now())  # as saq's worker does

    swept, _ = await asyncio.gather(queue.sweep(), mark_active_a_moment_later())

    assert swept == []
    stored = await queue.job("import:3")
    assert stored is not None and stored.status == Status.ACTIVE
    # Neither aborted (its abort key would refuse the key's enqueues) nor queued a second time.
    assert not await queue.redis.exists(job.abort_id)
    assert await queue.redis.llen(queue.namespace("queued")) == 0


async def test_a_job_lost_with_its_worker_is_swept_and_queued_again(queue):
    await queue.enqueue("anything", key="import:4", retries=2)
    job = await queue.dequeue()  # and its worker dies before marking it active
    assert job is not None

    swept = await queue.sweep(abort=0.1)

    assert swept == [job.id]
    assert await queue.redis.lrange(queue.namespace("queued"), 0, -1) == [job.id.encode()]
    assert await queue.redis.llen(queue.namespace("active")) == 0


async def test_a_sweep_is_held_off_by_the_last_one(queue):
    await queue.enqueue("anything", key="import:5", retries=2)
    await queue.dequeue()
    assert await queue.sweep(lock=60, abort=0.1) != []
    await queue.enqueue("anything", key="import:6", retries=2)
    await queue.dequeue()
    assert await queue.sweep(lock=60) == []  # within the first sweep's lock: another worker's turn has not come
