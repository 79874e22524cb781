"""Benchmark: per-recipient short codes made the way expansion makes them, then the redirect endpoint under load.

1. Codes for ``--codes`` recipients through the active shortener, in the expansion's chunks (5,000 per
   transaction, one INSERT per 500), next to a raw baseline: the same rows inserted with no uniqueness check.
2. The app under uvicorn in its own process (web only); ``--clients`` concurrent keep-alive HTTP/1.1 clients on
   loopback GET ``/<code>`` on the short domain for ``--seconds``; every answer must be a 302.
3. The clicks the redirects queued in the Redis stream are flushed the way the click worker does, and counted
   against the redirects made.

The last line is JSON: codes, codes_per_s, raw_codes_per_s, redirects, redirects_per_s, redirect_p50_ms,
redirect_p99_ms, clicks_stored, clicks_lost.

    python bench/shortener.py                       # embedded SQLite and Redis under a temporary var/
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/15 \\
        python bench/shortener.py                   # PostgreSQL and a real Redis (both emptied first)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOMAIN = "go.bench"
CHUNK = 5_000  # the expansion's chunk: one transaction each


def configure() -> None:
    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ["PORTAL_PLUGINS"] = "shortener"
    if os.environ.get("DATABASE_URL"):
        import asyncpg

        url = os.environ["DATABASE_URL"]
        name = url.rsplit("/", 1)[1]

        async def recreate() -> None:
            conn = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        asyncio.run(recreate())
    if os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


async def make_codes(count: int) -> tuple[list[str], float, float]:
    """(codes, seconds through the shortener, seconds of the raw baseline)."""
    from datetime import UTC, datetime

    from core import LinkRecipient, db
    from core.plugins import registries
    from core.providers import active_shortener
    from core.tenancy.tables import ShortDomain

    db.refresh_app_registry()
    await db.migrate()
    await ShortDomain.insert(ShortDomain(host=DOMAIN, created_at=datetime.now(UTC)))
    shortener = active_shortener(registries().shorteners)
    assert shortener is not None, "the shortener plugin is not loaded"
    await start_plugins()  # as in a worker process: the shortener gets its Redis
    codes: list[str] = []
    began = time.perf_counter()
    for start in range(0, count, CHUNK):
        recipients = [
            LinkRecipient(partner_id=1, campaign_id=1, destination=f"3461{n:07d}")
            for n in range(start, min(count, start + CHUNK))
        ]
        async with db.write_transaction():
            links = await shortener.shorten(DOMAIN, "https://shop.example.com/sale", recipients)
        codes += [link.code for link in links]
    shortened = time.perf_counter() - began
    raw = await raw_baseline(min(count, 200_000))
    return codes, shortened, raw * count / min(count, 200_000)


async def start_plugins() -> object:
    """A Portal façade for this process, handed to the plugins' start-up hooks the way the app does."""
    from redis.asyncio import Redis

    from core.plugins import pm
    from core.portal import Portal
    from core.settings import load_settings

    portal = Portal(load_settings(), Redis.from_url(os.environ["REDIS_URL"]), None, None)  # type: ignore[arg-type]
    for result in pm.hook.startup(portal=portal):
        if asyncio.iscoroutine(result):
            await result
    return portal


async def raw_baseline(count: int) -> float:
    """The same rows in the same statements without ON CONFLICT and RETURNING, into a scratch table."""
    from datetime import UTC, datetime

    from piccolo.querystring import QueryString

    from core import db
    from plugins.shortener.codes import new_codes

    engine = db.engine()
    await engine.run_ddl("CREATE TABLE bench_link AS SELECT * FROM short_link WHERE 1 = 0")
    now = datetime.now(UTC)
    began = time.perf_counter()
    for start in range(0, count, CHUNK):
        async with db.write_transaction():
            for offset in range(start, min(count, start + CHUNK), 500):
                size = min(500, count - offset)
                args: list[object] = []
                for code in new_codes(size, 8):
                    args += [code, DOMAIN, "https://shop.example.com/sale", 1, 1, "34610000000", now]
                values = ", ".join(["({}, {}, {}, {}, {}, {}, {})"] * size)
                await engine.run_querystring(
                    QueryString(
                        "INSERT INTO bench_link (code, domain, url, partner, campaign, destination, created_at)"
                        f" VALUES {values}",
                        *args,
                    )
                )
    elapsed = time.perf_counter() - began
    await engine.run_ddl("DROP TABLE bench_link")
    return elapsed


def serve(port_queue: multiprocessing.Queue) -> None:
    """The web app alone (no worker) under uvicorn on a free port, as `portal web` runs it."""
    import socket

    import uvicorn

    from core.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port_queue.put(sock.getsockname()[1])
    app = create_app(run_worker=False, db_pool=True)
    config = uvicorn.Config(app, log_level="warning", loop="uvloop", http="httptools", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def wait_until_serving(port: int, timeout: float = 120.0) -> None:
    """Until the server answers on ``port``: its start-up takes seconds, many more on a loaded machine."""
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def drive(port: int, codes: list[str], clients: int, seconds: float) -> list[float]:
    """Keep-alive clients sending GET /<code> as fast as answers come, for ``seconds``; the latencies."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one_client(seed: int) -> None:
        pick = random.Random(seed)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            code = codes[pick.randrange(len(codes))]
            started = time.perf_counter()
            writer.write(f"GET /{code} HTTP/1.1\r\nHost: {DOMAIN}\r\nUser-Agent: Bench/1.0 (iPhone)\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            samples.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 302"):
                raise AssertionError(head.decode(errors="replace"))
        writer.close()

    await asyncio.gather(*[one_client(n) for n in range(clients)])
    return samples


async def flush_all() -> int:
    from core import db
    from core.shortlinks.clicks import flush
    from core.shortlinks.stream import STREAM
    from plugins.shortener.tables import LinkClick

    portal: Any = await start_plugins()
    redis = portal.redis
    await db.open_pool()
    while await redis.xlen(STREAM):
        await flush(portal, "bench", idle_ms=0)
    stored = await LinkClick.count()
    await redis.aclose()
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--distinct", type=int, default=20_000, help="codes the clients pick from")
    args = parser.parse_args()
    configure()
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from core.redis_embedded import EmbeddedRedis

        embedded = EmbeddedRedis(os.environ["PORTAL_VAR_DIR"])
        os.environ["REDIS_URL"] = embedded.url
    codes, shortened_s, raw_s = asyncio.run(make_codes(args.codes))
    print(f"codes: {len(codes):,} in {shortened_s:.1f} s = {len(codes) / shortened_s:,.0f}/s (raw {raw_s:.1f} s)")
    spawn = multiprocessing.get_context("spawn")
    ports = spawn.Queue()
    server = spawn.Process(target=serve, args=(ports,))
    server.start()
    try:
        port = ports.get(timeout=60)
        wait_until_serving(port)  # the app's start-up (pool, Redis) before the clock starts
        warm_up = asyncio.run(drive(port, codes, 2, 1.0))  # caches and connections
        samples = asyncio.run(
            drive(port, random.sample(codes, min(len(codes), args.distinct)), args.clients, args.seconds)
        )
    finally:
        server.terminate()
        server.join()
    made = len(samples)
    stored = asyncio.run(flush_all())
    ordered = sorted(samples)
    result = {
        "codes": len(codes),
        "codes_per_s": round(len(codes) / shortened_s),
        "raw_codes_per_s": round(len(codes) / raw_s),
        "redirects": made,
        "redirects_per_s": round(made / args.seconds),
        "redirect_p50_ms": round(median(ordered) * 1000, 2),
        "redirect_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "clicks_stored": stored,
        "clicks_lost": made + len(warm_up) - stored,  # the warm-up's clicks are stored too
    }
    print(f"redirects: {made:,} in {args.seconds:.0f} s with {args.clients} clients")
    if embedded:
        embedded.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
