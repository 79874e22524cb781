"""Test set-up: real database (SQLite file or DATABASE_URL), real Redis (embedded or REDIS_URL), the real app."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

# Entry points are not loaded in tests: the suite registers exactly the plugins it needs (datasette's way).
sys._called_from_test = True  # type: ignore[attr-defined]
os.environ.pop("PORTAL_PLUGINS", None)
# Password hashes at argon2's lowest cost (real settings, which the browser tests' demo servers inherit): a test signs
# in a few times, and production's cost takes ~100 ms of a core per hash or check, seconds on a loaded machine.
# tests/core/accounts/test_timing.py measures at production's cost.
os.environ.setdefault("PORTAL_PASSWORD_TIME_COST", "1")
os.environ.setdefault("PORTAL_PASSWORD_MEMORY_KIB", "64")


def _own_services() -> None:
    """Give this test process a var directory (SQLite file, embedded Redis), PostgreSQL database and Redis database
    of its own. The suite owns what it is given (it drops the schema, flushes Redis), so the processes of a
    pytest-xdist run (PYTEST_XDIST_WORKER gw0, gw1, ...) must never share them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="portal-test-"))
        if database := os.environ.get("DATABASE_URL"):
            asyncio.run(_create_database(database, urlsplit(database).path.lstrip("/")))
        return
    number = int(worker.removeprefix("gw"))
    base = os.environ.get("PORTAL_VAR_DIR") or tempfile.mkdtemp(prefix="portal-test-")
    os.environ["PORTAL_VAR_DIR"] = os.path.join(base, worker)
    os.makedirs(os.environ["PORTAL_VAR_DIR"], exist_ok=True)
    if database := os.environ.get("DATABASE_URL"):
        parts = urlsplit(database)
        name = f"{parts.path.lstrip('/')}_{worker}"
        asyncio.run(_create_database(database, name))
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    if redis := os.environ.get("REDIS_URL"):
        parts = urlsplit(redis)
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{int(parts.path.lstrip('/') or 0) + number}"))


async def _create_database(url: str, name: str) -> None:
    # Through the server's maintenance database: the one named in the URL need not exist.
    connection = await asyncpg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
        # A commit need not wait for its WAL to reach the disk: only a crash of the server could lose it, and the
        # suite starts from an empty schema anyway. The tests commit thousands of times.
        await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await connection.close()


_own_services()

import msgspec  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from saq import Status  # noqa: E402
from saq.queue.redis import RedisQueue  # noqa: E402

import core.piccolo_conf  # noqa: E402
import plugins.payments.plugin  # noqa: E402
import plugins.shortener.plugin  # noqa: E402
import plugins.sms.plugin  # noqa: E402
import plugins.viber.plugin  # noqa: E402
import plugins.whatsapp.plugin  # noqa: E402
from core import db  # noqa: E402
from core.app import create_app  # noqa: E402
from core.plugins import pm, reset_registries  # noqa: E402
from core.redis_embedded import EmbeddedRedis  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from core.tenancy.resolver import resolver  # noqa: E402
from core.tenancy.short_domains import short_host_cache  # noqa: E402
from core.web.templating import environment  # noqa: E402
from core.worker import QUEUE_NAME, SEND_QUEUE_NAME, make_queue  # noqa: E402
from plugins.shortener.plugin import SHORTENER  # noqa: E402

BUILTIN_PLUGINS = {
    "sms": plugins.sms.plugin,
    "viber": plugins.viber.plugin,
    "whatsapp": plugins.whatsapp.plugin,
    "shortener": plugins.shortener.plugin,
    "payments": plugins.payments.plugin,
}


@pytest.fixture(scope="session", autouse=True)
def builtin_plugins() -> None:
    for name, module in BUILTIN_PLUGINS.items():
        if pm.get_plugin(name) is None:
            pm.register(module, name)
    reset_registries()


def _flush_redis(url: str) -> None:
    from redis import Redis as SyncRedis

    client = SyncRedis.from_url(url)
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def redis_url() -> object:
    if os.environ.get("REDIS_URL"):
        # The suite owns the Redis database it is given, as it owns the test schema: a run killed earlier can
        # leave saq jobs "active" whose keys (import:3, mail:1) would silently swallow this run's enqueues.
        _flush_redis(os.environ["REDIS_URL"])
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(os.environ["PORTAL_VAR_DIR"])
    yield server.url
    server.close()


@pytest.fixture(scope="session")
def settings(redis_url: str) -> Settings:
    # Callback receivers in the tests listen on loopback, which only this setting lets callbacks reach.
    return msgspec.structs.replace(
        load_settings(), redis_url=redis_url, cookie_secure=True, callbacks_allow_private=True
    )


@pytest.fixture(scope="session")
async def migrated() -> None:
    engine = db.engine()
    if isinstance(engine, PostgresEngine):
        # The suite owns the test database: start from an empty schema so migrations run from scratch.
        await engine.run_ddl("DROP SCHEMA public CASCADE")
        await engine.run_ddl("CREATE SCHEMA public")
    await db.migrate()


def _all_tables() -> list[str]:
    registry = core.piccolo_conf.APP_REGISTRY
    return [table._meta.tablename for config in registry.app_configs.values() for table in config.table_classes]


async def _empty_database() -> None:
    engine = db.engine()
    tables = _all_tables()
    if isinstance(engine, PostgresEngine):
        # TRUNCATE locks every table, so the session's worker (its sweeper, the rollups' fold) cannot add a row
        # between emptying a table and restarting its ids, as it did under a DELETE of each table (duplicate ids,
        # counts of the test before). TRUNCATE can deadlock with one of the worker's transactions; PostgreSQL then
        # aborts one side: try again.
        for attempt in range(5):
            try:
                await engine.run_ddl(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                return
            except asyncpg.DeadlockDetectedError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.2)
    async with engine.transaction():
        await engine.run_ddl("PRAGMA defer_foreign_keys = ON")
        for table in tables:
            await engine.run_ddl(f"DELETE FROM {table}")


@pytest.fixture(autouse=True)
async def clean_state(migrated: None, redis_url: str) -> AsyncIterator[None]:
    """Every test starts with empty tables, an empty Redis and no cached portals."""
    await reset_state(redis_url)
    yield


async def reset_state(redis_url: str) -> None:
    """Empty tables, an empty Redis and no cached portals; a module that shares one world calls it once."""
    redis = Redis.from_url(redis_url)
    await _settle_jobs(redis, redis_url)
    await _empty_database()
    # Everything but saq's own keys: the session's worker keeps reporting to them.
    stale = [key async for key in redis.scan_iter() if not key.startswith(b"saq:")]
    if stale:
        await redis.delete(*stale)
    await redis.aclose()
    resolver.clear()
    short_host_cache.clear()
    # Ids start again at 1: a link code or an archived campaign cached by the last test would answer for this one's.
    SHORTENER.forget()


SETTLE_S = 3.0


async def _settle_jobs(redis: Redis, redis_url: str) -> None:
    """No job outlives its test. Ids start again at 1 in every test, and saq drops an enqueue while a job of its key
    is queued or running: a ``prepare:1`` of the last test still running swallowed this test's ``prepare:1`` and
    stalled its campaign. So the last test's jobs end, or are aborted, each named in a warning."""
    queues = [make_queue(redis_url, name) for name in (QUEUE_NAME, SEND_QUEUE_NAME)]

    async def leftovers(due_only: bool) -> list[tuple[RedisQueue, bytes]]:
        # A job's score is when it is due (0: at once); a retry or a scheduled job is due later.
        found, now = [], time.time()
        for queue in queues:
            scored = await redis.zrange(queue.namespace("incomplete"), 0, -1, withscores=True)
            found += [
                (queue, job_id) for job_id, due in scored if b":cron:" not in job_id and (not due_only or due <= now)
            ]
        return found

    # Running and due jobs get SETTLE_S to end; waiting for a retry due later would only make every test slower.
    deadline = asyncio.get_running_loop().time() + SETTLE_S
    while await leftovers(due_only=True) and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    left = await leftovers(due_only=False)
    aborted = []
    for queue, job_id in left:
        job = await queue.job(queue.job_key_from_id(job_id.decode()))
        if job is not None:
            # Where saq holds it tells a job never taken (queued) from one lost between taking and starting (active).
            lists = ("queued", "active")
            held = [name for name in lists if await redis.lpos(queue.namespace(name), job_id) is not None]
            warnings.warn(
                f"aborted {job.key} ({job.function}, {job.status}, in {held or 'no list'}): it outlived its test",
                stacklevel=1,
            )
            running = job.status == Status.ACTIVE
            await queue.abort(job, error="outlived its test")
            if running:
                aborted.append(job.abort_id)
            else:  # no worker holds it to clear its abort key, which would block the key's enqueues for seconds
                await redis.delete(job.abort_id)
    # The worker cancels an aborted job within a second and clears its abort key, which blocks the key till then.
    async with asyncio.timeout(10):
        while aborted and await redis.exists(*aborted):  # noqa: ASYNC110 - Redis state
            await asyncio.sleep(0.05)
    for queue in queues:
        await queue.disconnect()


def asgi_client(app: object, host: str, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    """An HTTPS client of the real app with that Host, from ``ip`` (the caller closes it)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url=f"https://{host}", follow_redirects=False)


@pytest.fixture(scope="session")
async def app(settings: Settings, migrated: None, builtin_plugins: None) -> AsyncIterator[object]:
    application = create_app(settings, run_worker=True, db_pool=True)
    ready, done = asyncio.Event(), asyncio.Event()

    async def hold_lifespan() -> None:
        # Enter and leave the lifespan in one task: anyio cancel scopes must not change task.
        async with application.lifespan():
            ready.set()
            await done.wait()

    task = asyncio.create_task(hold_lifespan())
    await ready.wait()
    yield application
    done.set()
    await task


ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_for(app: object) -> AsyncIterator[ClientFactory]:
    """``client_for("a.test")`` → an HTTPS client of the real app with that Host; closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def make(host: str, ip: str = "127.0.0.1") -> httpx.AsyncClient:
        client = asgi_client(app, host, ip)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def fresh_templates() -> AsyncIterator[None]:
    """Forget compiled Jinja environments, for tests that add template directories."""
    environment.cache_clear()
    yield
    environment.cache_clear()
