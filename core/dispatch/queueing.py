"""Dispatch jobs on the queues: keyed so a campaign never gets a job twice, beating so a dead one is noticed.

Prepare and send jobs carry fixed keys (``prepare:<campaign>``, ``send:<campaign>:<slot>``) and saq drops an
enqueue while a job of that key is queued or active. A worker killed with SIGKILL leaves its jobs "active" in
Redis for good, which silently swallowed every later enqueue and stalled the campaign. So the jobs touch
themselves every TOUCH_S while they run (saq's heartbeat), and ``revive`` ends a job whose beat stopped:
every enqueue calls it first (the sweeper's every 10 s, resume's), and saq's own sweep would end it later too.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

from redis.exceptions import WatchError
from saq import Job, Queue, Status
from saq.queue.redis import RedisQueue
from saq.utils import now

from core.dispatch.liveness import every
from core.portal import Portal

log = logging.getLogger(__name__)

SENDERS_PER_CAMPAIGN = 4
# A job untouched this long belongs to a dead worker: about the worker beat's TTL (liveness.TTL_S), after which
# its batches are released anyway. Were a live job's loop stalled that long, ending it only lets a second job
# send beside it (claims are conditional); the campaign waits at most this plus a sweep (10 s) for new jobs.
HEARTBEAT_S = 12
TOUCH_S = 3
GONE = "its worker stopped beating (killed or lost); the job was ended so that the campaign can go on"
LOST = "queued but taken by no live worker; the job was removed so that the campaign can go on"


def prepare_key(campaign_id: int) -> str:
    return f"prepare:{campaign_id}"


def send_keys(campaign_id: int) -> list[str]:
    return [f"send:{campaign_id}:{slot}" for slot in range(SENDERS_PER_CAMPAIGN)]


async def enqueue_prepare(portal: Portal, campaign_id: int) -> None:
    """The campaign's expansion job, unless one is queued or running (a dead one is ended first)."""
    await revive(portal.queue, [prepare_key(campaign_id)])
    await portal.queue.enqueue(
        "prepare_campaign",
        campaign_id=campaign_id,
        key=prepare_key(campaign_id),
        timeout=0,
        heartbeat=HEARTBEAT_S,
        retries=3,
    )


async def enqueue_senders(portal: Portal, campaign_id: int) -> None:
    """Up to four send jobs per campaign; one already queued or running under a key is not doubled, a dead one
    is ended and replaced."""
    keys = send_keys(campaign_id)
    await revive(portal.send_queue, keys)
    for key in keys:
        await enqueue_sender(portal, campaign_id, key)


async def enqueue_sender(portal: Portal, campaign_id: int, key: str) -> None:
    """One send job of the campaign under ``key``, at the back of the send queue (dropped while one is queued or
    active under that key)."""
    # Not portal.enqueue: a dropped duplicate is the point here, not something to warn about.
    await portal.send_queue.enqueue(
        "send_campaign", campaign_id=campaign_id, key=key, timeout=0, heartbeat=HEARTBEAT_S, retries=0
    )


async def revive(queue: Queue, keys: list[str]) -> None:
    """End the jobs among ``keys`` whose worker died (heartbeat lapsed), or that were lost before any worker started
    them, so they can be enqueued again."""
    for key in keys:
        job = await queue.job(key)
        if job is None:
            continue
        if job.status == Status.QUEUED:
            if isinstance(queue, RedisQueue) and await _end_if_lost(queue, job.id):
                log.warning("dispatch job %s: %s", key, LOST)
            continue
        if job.status not in (Status.ACTIVE, Status.ABORTING) or not job.stuck:
            continue
        log.warning("dispatch job %s: %s", key, GONE)
        await queue.finish(job, Status.ABORTED, error=GONE)


async def _end_if_lost(queue: RedisQueue, job_id: str) -> bool:
    """Delete a due job still marked queued, but out of the queued list for HEARTBEAT_S: taken by a worker that died
    (or a client cut off) before it marked the job active. While it exists, every enqueue of its key is dropped.

    Watched, so a job that a worker takes or a caller re-queues meanwhile is left alone; a worker that did take it
    and starts it late runs beside the new job, which expansion's checkpoint and the batch claims make harmless.
    """
    queued, active, incomplete = (queue.namespace(name) for name in ("queued", "active", "incomplete"))
    async with queue.redis.pipeline(transaction=True) as pipe:
        try:
            await pipe.watch(job_id, queued, active, incomplete)
            job = queue.deserialize(await pipe.get(job_id))
            waiting = await pipe.lpos(queued, job_id) is not None
            # Its score in the incomplete set says when it is due (a retry waiting out its delay is in no list too);
            # out of that set it no longer blocks enqueues.
            due = await pipe.zscore(incomplete, job_id)
            if job is None or job.status != Status.QUEUED or waiting or due is None or due > time.time():
                return False
            if now() - job.queued < HEARTBEAT_S * 1000:
                return False
            pipe.multi()
            pipe.lrem(active, 0, job_id)
            pipe.zrem(incomplete, job_id)
            pipe.delete(job_id)
            await pipe.execute()
        except WatchError:
            return False
    return True


@contextlib.asynccontextmanager
async def touching(job: Job | None) -> AsyncIterator[None]:
    """Touch ``job`` every TOUCH_S while the block runs: its heartbeat, which stops when the process dies."""
    if job is None:  # called outside a worker (tests drive the engine directly)
        yield
        return
    async with every(TOUCH_S, job.update):
        yield
