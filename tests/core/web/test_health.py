"""GET /healthz: 200 when database, Redis and a worker answer; 503 naming what is down."""

from __future__ import annotations

import asyncio

import msgspec
from redis.asyncio import Redis
from saq.queue.redis import RedisQueue

from core.app import create_app
from core.worker import QUEUE_NAME, make_worker
from tests.redis_dbs import NO_WORKERS, side_db


async def run_app(app, check):
    ready, done = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            ready.set()
            await done.wait()

    task = asyncio.create_task(hold())
    await ready.wait()
    try:
        return await check()
    finally:
        done.set()
        await task


async def test_healthy_app_reports_each_part(client_for):
    response = await client_for("any.test").get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["worker"]["workers"] >= 1 and body["database"]["engine"] in ("SQLiteEngine", "PostgresEngine")


async def test_no_worker_means_503_until_one_reports(settings):
    import httpx

    lonely = msgspec.structs.replace(settings, redis_url=side_db(settings.redis_url, NO_WORKERS))
    app = create_app(lonely, run_worker=False, db_pool=False)

    async def check():
        redis = Redis.from_url(lonely.redis_url)
        await redis.flushdb()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://x.test") as client:
            down = await client.get("/healthz")
            queue = RedisQueue(redis, name=QUEUE_NAME)
            worker = make_worker(queue, concurrency=1)
            task = asyncio.create_task(worker.start())
            try:
                for _ in range(50):
                    up = await client.get("/healthz")
                    if up.status_code == 200:
                        break
                    await asyncio.sleep(0.1)
            finally:
                await worker.stop()
                task.cancel()
                await redis.flushdb()
                await redis.aclose()
        return down, up

    down, up = await run_app(app, check)
    assert down.status_code == 503
    assert down.json()["worker"] == {"ok": False, "workers": 0} and down.json()["redis"]["ok"]
    assert up.status_code == 200 and up.json()["worker"]["ok"]


async def test_redis_down_means_503(settings):
    import httpx

    app = create_app(settings, run_worker=False, db_pool=False)

    async def check():
        portal = app.state.portal
        real = portal.redis
        portal.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://x.test") as c:
                return await c.get("/healthz")
        finally:
            await portal.redis.aclose()
            portal.redis = real

    response = await run_app(app, check)
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False and "error" in response.json()["redis"]
