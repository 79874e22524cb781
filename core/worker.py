"""The saq queue and worker: core jobs plus those of plugins, on the same Redis as the web side."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from redis.asyncio import Redis
from saq import CronJob, Queue, Worker
from saq.queue.redis import RedisQueue

from core.accounts.jobs import flush_api_key_usage
from core.contacts.jobs import run_import, sweep_imports
from core.dispatch.jobs import prepare_campaign, send_campaign, start_due_campaigns, sweep_dispatch
from core.mail.jobs import deliver_mail
from core.plugins import plugin_jobs

QUEUE_NAME = "portal"


def make_queue(redis_url: str) -> Queue:
    # Built from a client rather than Queue.from_url, which refuses the unix:// URL of the embedded Redis.
    return RedisQueue(Redis.from_url(redis_url), name=QUEUE_NAME)


def job_functions() -> list[Callable[..., Awaitable[Any]]]:
    """Every task the worker knows: the core's domains' jobs and the plugins'."""
    return [deliver_mail, run_import, prepare_campaign, send_campaign, *plugin_jobs()]


class PortalWorker(Worker):
    """A saq worker that leaves SIGINT/SIGTERM to its host (uvicorn or ``portal worker``)."""

    SIGNALS: ClassVar[list[signal.Signals]] = []


def make_worker(queue: Queue, *, concurrency: int, context: dict[str, Any] | None = None) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(context or {})

    return PortalWorker(
        queue,
        functions=job_functions(),
        cron_jobs=cron_jobs(),
        concurrency=concurrency,
        startup=startup,
        timers={"worker_info": 5},
    )


def cron_jobs() -> list[CronJob]:
    """Periodic core tasks; ``unique`` keeps one run per tick however many workers there are."""
    return [
        CronJob(flush_api_key_usage, cron="* * * * *", unique=True, timeout=50),
        CronJob(sweep_imports, cron="* * * * *", unique=True, timeout=50),
        CronJob(sweep_dispatch, cron="* * * * * */10", unique=True, timeout=300),
        CronJob(start_due_campaigns, cron="* * * * *", unique=True, timeout=50),
    ]


async def worker_count(queue: Queue) -> int:
    """Workers that reported to Redis within the last minute."""
    info = await queue.info()
    return len(info.get("workers") or {})
