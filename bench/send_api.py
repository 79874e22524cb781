"""Benchmark: POST /api/send_sms with 700 recipients from several concurrent clients, next to a raw floor.

The app runs under uvicorn on a free port (web only: the send jobs stay queued, so what is measured is
acceptance: checks, pricing, the paid EDRs written and one job enqueued per request) on PostgreSQL with real
Redis. The floor is measured in the same run without the web framework: decode 700 recipients, COPY 700
EDR-shaped rows, enqueue one saq job; its samples are taken before, between and after slices of the timed
requests, so that on a shared machine both meet the same load. The per-key rate limit is lifted for the run.
Prints one line per figure and, last, one JSON object with p50_ms, p99_ms, req_per_s, floor_ms and ratio
(p50 / floor).

    python bench/send_api.py    # PostgreSQL 127.0.0.1:5432 (database bench_send_api, recreated) + Redis db 14
    python bench/send_api.py --clients 8 --requests 400
    python bench/send_api.py --database bench_mine --redis-db 15    # beside another run on the same servers
    python bench/send_api.py --redis-url redis://127.0.0.1:16340/      # a Redis server of its own
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVER = "postgresql://postgres@127.0.0.1:5432/"
REDIS_SERVER = "redis://127.0.0.1:6379/"
RECIPIENTS = 700
SLICES = 3  # the timed requests run in this many slices, with floor samples before, between and after them
FLOOR_PER_POINT = 10  # floor samples at each of those SLICES + 1 points
PRICED = (40_000, 40_000, False, "BILLED", "")  # rate, price, charge on delivery, status, error


def configure(database: str, redis_db: int, redis_server: str = REDIS_SERVER) -> None:
    import asyncpg
    import redis

    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.pop("PORTAL_PLUGINS", None)

    async def recreate() -> None:
        conn = await asyncpg.connect(ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await conn.execute(f'CREATE DATABASE "{database}"')
        await conn.close()

    asyncio.run(recreate())
    redis_url = f"{redis_server.rstrip('/')}/{redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    os.environ["DATABASE_URL"] = SERVER + database
    os.environ["REDIS_URL"] = redis_url


async def seed() -> str:
    """The benchmark shop with funds, a vendor connection and an API key; the key."""
    from bench.shop import sms_shop
    from core import db
    from core.accounts.api_keys import ApiKeyCreate, create_key
    from core.billing.services import change_balance
    from core.dispatch.tables import VendorConnection

    shop = await sms_shop()
    now = datetime.now(UTC)
    await VendorConnection.insert(
        VendorConnection(channel="sms", name="Bench", settings={}, enabled=True, created_at=now, updated_at=now)
    )
    async with db.write_transaction():
        await change_balance(shop.company_id, 10**15, kind="manual", description="Bench funds", initiator=None)
    created = await create_key(await shop.actor(), ApiKeyCreate(name="bench", period="never"))
    return created.key


def body(round_no: int) -> bytes:
    numbers = [f"34607{(round_no * RECIPIENTS + i) % 1_000_000:06d}" for i in range(RECIPIENTS)]
    return json.dumps([{"channels": ["SMS"], "from": "SHOP", "to": ",".join(numbers), "message": "Hello"}]).encode()


async def floor(portal: object, rounds: int, first: int = 0) -> list[float]:
    """Decode 700 recipients, COPY 700 EDR rows, enqueue one job: the least any accepting request must do."""
    import msgspec

    from core import db
    from core.dispatch.expansion import EDR_COLUMNS

    samples = []
    for n in range(first, first + rounds):
        raw = body(10_000 + n)
        started = time.perf_counter()
        items = msgspec.json.decode(raw)
        numbers = items[0]["to"].split(",")
        now = datetime.now(UTC)
        rows = [
            (
                1,
                None,
                None,
                str(uuid.uuid4()),
                "sms",
                "SHOP",
                num,
                "Hello",
                1,
                "ES",
                "Spain",
                "21401",
                "Vodafone",
                *PRICED,
                now,
                None,
            )
            for num in numbers
        ]
        async with db.write_transaction() as tx:
            await tx.connection.copy_records_to_table("edr", records=rows, columns=EDR_COLUMNS)
        await portal.send_queue.enqueue("bench_floor", key=f"floor:{n}")  # type: ignore[attr-defined]
        samples.append(time.perf_counter() - started)
    return samples


async def measure(clients: int, requests: int) -> dict[str, object]:
    import httpx
    import uvicorn

    from core.app import create_app
    from core.public_api import throttle

    key = await seed()
    throttle.RATE_PER_S, throttle.BURST = 1e9, 10**9  # measure acceptance, not the limit
    app = create_app(run_worker=False, db_pool=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 — uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Host": "bench.test"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as client:
        for n in range(5):  # warm-up: caches (prefix index, price list) and connections
            assert (await client.post("/api/send_sms", content=body(n), headers=headers)).status_code == 200
        samples: list[float] = []
        floor_samples: list[float] = []
        elapsed = 0.0

        async def one_client(numbers: Iterator[int]) -> None:
            for n in numbers:
                started = time.perf_counter()
                reply = await client.post("/api/send_sms", content=body(100 + n), headers=headers)
                samples.append(time.perf_counter() - started)
                assert reply.status_code == 200, reply.text
                assert len(reply.json()["results"]) == RECIPIENTS

        # The floor is sampled before, between and after slices of the timed requests, so that on a shared machine
        # both meet the same load and their ratio means something.
        for part in range(SLICES + 1):
            floor_samples += await floor(app.state.portal, FLOOR_PER_POINT, first=part * FLOOR_PER_POINT)
            if part == SLICES:
                break
            shared = iter(range(part, requests, SLICES))  # the clients take the slice's requests from one iterator
            began = time.perf_counter()
            await asyncio.gather(*[one_client(shared) for _ in range(clients)])
            elapsed += time.perf_counter() - began
    server.should_exit = True
    await task
    ordered = sorted(samples)
    p50 = median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    floor_ms = median(floor_samples) * 1000
    return {
        "engine": "postgresql",
        "clients": clients,
        "requests": requests,
        "recipients_per_request": RECIPIENTS,
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "req_per_s": round(requests / elapsed, 1),
        "messages_per_s": round(requests * RECIPIENTS / elapsed),
        "floor_ms": round(floor_ms, 2),
        "ratio": round(p50 / floor_ms, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests in all (default 200)")
    parser.add_argument("--database", default="bench_send_api", help="PostgreSQL database, recreated (bench_send_api)")
    parser.add_argument("--redis-db", type=int, default=14, help="Redis database number, flushed (default 14)")
    parser.add_argument(
        "--redis-url", default=REDIS_SERVER, help=f"Redis server without the database ({REDIS_SERVER}): a private one"
    )
    args = parser.parse_args()
    configure(args.database, args.redis_db, args.redis_url)
    results = asyncio.run(measure(args.clients, args.requests))
    print(f"{results['requests']} requests of {RECIPIENTS} recipients from {results['clients']} clients")
    print(f"p50 {results['p50_ms']} ms, p99 {results['p99_ms']} ms, {results['req_per_s']} requests/s")
    print(f"floor (decode + COPY 700 EDRs + enqueue one job): {results['floor_ms']} ms")
    print(f"ratio p50 / floor: {results['ratio']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
