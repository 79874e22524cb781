"""The saq queue and worker: core jobs plus those of plugins, on the same Redis as the web side."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from saq import CronJob, Queue, Worker

from core.accounts.jobs import flush_api_key_usage, send_reset_link
from core.contacts.jobs import run_import, sweep_imports
from core.dispatch.jobs import (
    deliver_callbacks,
    prepare_campaign,
    requeue_yielded,
    send_campaign,
    start_due_campaigns,
    sweep_dispatch,
)
from core.mail.jobs import deliver_mail
from core.plugins import plugin_jobs
from core.public_api.jobs import answer_inbound, hand_over_api_cascades, send_api_request, sweep_api_requests
from core.queue import PortalQueue
from core.senders.jobs import expire_senders
from core.shortlinks.jobs import flush_clicks
from core.statistics.jobs import fold_edr_rollups, remove_expired_exports, run_edr_export

QUEUE_NAME = "portal"
# Campaign send jobs hold their slot for as long as a campaign sends: on a queue of their own they can never
# keep mail (sign-up links, 2FA codes) or imports waiting.
SEND_QUEUE_NAME = "portal-send"


def make_queue(redis_url: str, name: str = QUEUE_NAME) -> Queue:
    # Built from a client rather than Queue.from_url, which refuses the unix:// URL of the embedded Redis.
    return PortalQueue(Redis.from_url(redis_url), name=name)


def job_functions() -> list[Callable[..., Awaitable[Any]]]:
    """Every task of the main queue: the core's domains' jobs and the plugins' (send jobs have their own queue)."""
    plugins = [job for job in plugin_jobs() if not isinstance(job, CronJob)]
    return [deliver_mail, send_reset_link, run_import, prepare_campaign, run_edr_export, answer_inbound, *plugins]


class PortalWorker(Worker):
    """A saq worker that leaves SIGINT/SIGTERM to its host (uvicorn or ``portal worker``)."""

    SIGNALS: list[signal.Signals] = []

    async def upkeep(self) -> list[asyncio.Task[None]]:
        # saq's sweep aborts any job in the active list that is not yet marked active. Started beside the first
        # dequeues, it aborted the jobs this very worker had just taken ("swept"). Sweeping once before processing
        # starts removes that race; the sweep's lock then holds the periodic sweep off for an interval.
        await self.queue.sweep(self.timers["sweep"])
        return await super().upkeep()


def make_worker(queue: Queue, *, concurrency: int, context: dict[str, Any] | None = None) -> Worker:
    """The worker of the main queue: every job but campaign sending, and the periodic tasks."""
    return _worker(queue, job_functions(), cron_jobs(), concurrency, context)


def make_send_worker(queue: Queue, *, concurrency: int, context: dict[str, Any] | None = None) -> Worker:
    """The worker of the send queue: campaign and API request send jobs only."""
    return _worker(queue, [send_campaign, send_api_request], [], concurrency, context, after_process=requeue_yielded)


def _worker(
    queue: Queue,
    functions: list[Callable[..., Awaitable[Any]]],
    crons: list[CronJob],
    concurrency: int,
    context: dict[str, Any] | None,
    *,
    after_process: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(context or {})

    async def shutdown(ctx: dict[str, Any]) -> None:
        client = ctx.pop("callback_client", None)  # made by the first deliver_callbacks run
        if client is not None:
            await client.aclose()

    return PortalWorker(
        queue,
        functions=functions,
        cron_jobs=crons,
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        after_process=after_process,
        # saq declares PartialTimersDict with total=False over TimersDict, which leaves the inherited keys required.
        timers={"worker_info": 5},  # type: ignore[arg-type]
    )


def cron_jobs() -> list[CronJob]:
    """Periodic core tasks; ``unique`` keeps one run per tick however many workers there are."""
    return [
        CronJob(flush_api_key_usage, cron="* * * * *", unique=True, timeout=50),
        CronJob(sweep_imports, cron="* * * * *", unique=True, timeout=50),
        CronJob(sweep_dispatch, cron="* * * * * */10", unique=True, timeout=300),
        CronJob(start_due_campaigns, cron="* * * * *", unique=True, timeout=50),
        CronJob(expire_senders, cron="5 * * * *", unique=True, timeout=50),
        CronJob(sweep_api_requests, cron="* * * * *", unique=True, timeout=50),
        CronJob(hand_over_api_cascades, cron="* * * * * */10", unique=True, timeout=300),
        CronJob(remove_expired_exports, cron="17 * * * *", unique=True, timeout=300),
        # Reads add the deltas not folded yet, so the tick only keeps their number (and the reads' cost) small.
        CronJob(fold_edr_rollups, cron="* * * * * */5", unique=True, timeout=120),
        # Claims are safe under several workers, so each tick's run may overlap another worker's.
        CronJob(deliver_callbacks, cron="* * * * * */2", unique=True, timeout=300),
        # Clicks wait in a Redis stream; a run that overlaps another worker's reads other entries of the group.
        CronJob(flush_clicks, cron="* * * * * *", unique=True, timeout=60),
        *(job for job in plugin_jobs() if isinstance(job, CronJob)),  # plugins' periodic tasks (register_jobs)
    ]


async def worker_count(queue: Queue) -> int:
    """Workers that reported to Redis within the last minute."""
    info = await queue.info()
    return len(info.get("workers") or {})
