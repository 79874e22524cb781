"""saq's Redis queue with a sweep that spares the jobs workers are taking at that very moment."""

from __future__ import annotations

import asyncio
import logging

from saq import Job, Status
from saq.queue.redis import RedisQueue

log = logging.getLogger(__name__)

# How long a worker may take between moving a job to the active list and marking it active: milliseconds
# normally, so a job still unmarked after this was lost with its worker.
TAKE_GRACE_S = 2.0


class PortalQueue(RedisQueue):
    """A RedisQueue whose sweep ends only the jobs that stay unmarked in the active list for TAKE_GRACE_S."""

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """End the active list's lost jobs: missing, never marked active, or stuck (past timeout or heartbeat).

        saq's own sweep ended every job of the active list not marked active. A worker marks its job active just
        after moving it there, so a sweep in between ended a healthy job: aborted it (its abort key then refused
        the key's enqueues for seconds) and queued it again, so it ran twice. A job a worker is taking is marked a
        moment later; only what is still lost after TAKE_GRACE_S is ended, as saq ends it.
        """
        if not await self.redis.set(self.namespace("sweep"), 1, ex=lock, nx=True):
            return []  # another worker swept within the last ``lock`` seconds
        suspects = await self._lost()
        if not suspects:
            return []
        await asyncio.sleep(TAKE_GRACE_S)
        still = await self._lost()
        swept = []
        for job_id in suspects.keys() & still.keys():
            job = still[job_id]
            swept.append(job_id)
            if job is None:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self.namespace("active"), 0, job_id)
                    pipe.zrem(self.namespace("incomplete"), job_id)
                    await pipe.execute()
                log.info("swept missing job %s", job_id)
                continue
            log.info("sweeping job %s", job.info())
            await self.abort(job, error=self.swept_error_message)
            try:
                await job.refresh(abort)
            except TimeoutError:
                log.info("could not abort job %s", job.id)
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return swept

    async def _lost(self) -> dict[str, Job | None]:
        """The active list's jobs that are missing, not marked active, or stuck, by id."""
        ids = await self.redis.lrange(self.namespace("active"), 0, -1)
        if not ids:
            return {}
        found = {}
        for job_id, raw in zip(ids, await self.redis.mget(ids), strict=True):
            job = self.deserialize(raw)
            if job is None or job.status != Status.ACTIVE or job.stuck:
                found[job_id.decode() if isinstance(job_id, bytes) else job_id] = job
        return found
