"""`portal worker` processes for engine tests, on a Redis database of their own so only they take its jobs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
from redis.asyncio import Redis

from core.portal import Portal
from core.settings import Settings
from core.worker import SEND_QUEUE_NAME, make_queue
from tests.redis_dbs import WORKER_PROCESSES, side_db

PORTAL = Path(sys.executable).with_name("portal")


def other_db(url: str) -> str:
    """The same Redis server, another database: only the worker processes started here listen to its queue."""
    return side_db(url, WORKER_PROCESSES)


def start_worker(redis_url: str, log: Path, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "REDIS_URL": redis_url, "PORTAL_LOG_LEVEL": "INFO", **env}
    return subprocess.Popen([str(PORTAL), "worker"], env=environment, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def kill(*workers: subprocess.Popen) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
        worker.wait(10)


def stop(*workers: subprocess.Popen) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


@contextlib.asynccontextmanager
async def workers_portal(settings: Settings) -> AsyncIterator[Portal]:
    """A Portal on the worker processes' Redis database (emptied first): what it enqueues, only they run."""
    url = other_db(settings.redis_url)
    redis = Redis.from_url(url)
    await redis.flushdb()
    portal = Portal(
        msgspec.structs.replace(settings, redis_url=url), redis, make_queue(url), make_queue(url, SEND_QUEUE_NAME)
    )
    await portal.queue.connect()
    await portal.send_queue.connect()
    try:
        yield portal
    finally:
        await portal.queue.disconnect()
        await portal.send_queue.disconnect()
        await redis.aclose()
