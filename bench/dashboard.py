"""Benchmark: the dashboard's graphs over one company's EDRs, next to the raw grouped query they stand on.

Seeds ``--edrs`` message records spread over 90 days (two channels, every status), then times the service for each
period (median of ``--runs``) and the same window counted with one plain ``GROUP BY`` and no Python around it.
The last line is JSON: edrs, graph_ms per period, slowest_graph_ms, raw_ms (30 days) and ratio (raw ÷ service).

    python bench/dashboard.py                 # embedded SQLite
    python bench/dashboard.py --pg            # PostgreSQL at 127.0.0.1:5432, database portal_bench (recreated)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.contacts_page import configure  # noqa: E402 - after the path is set

STATUSES = ("DELIVERED",) * 7 + ("UNDELIVERED", "FAILED", "SENT")
CHUNK = 20_000


async def seed(edrs: int) -> object:
    from core import db
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.rawsql import RawSql

    await db.migrate()
    actor = await create_owner(
        "Bench", "EUR", UserCreate(email="b@x.test", first_name="B", last_name="O", password="bench-password-1")
    )
    now = datetime.now(UTC)
    step = timedelta(days=90) / edrs
    columns = ("partner", "channel", "sender", "destination", "status", "price", "created_at")
    for start in range(0, edrs, CHUNK):
        rows = [
            (
                actor.partner_id,  # type: ignore[attr-defined]
                "viber" if n % 5 == 0 else "sms",
                "Bench",
                f"3461{n:07d}",
                STATUSES[n % len(STATUSES)],
                40_000,
                now - step * n,
            )
            for n in range(start, min(start + CHUNK, edrs))
        ]
        async with db.write_transaction() as tx:
            await RawSql(tx.connection, sqlite=db.is_sqlite()).bulk("edr", columns, rows)
    return actor


async def timed(action: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


async def measure(edrs: int, runs: int) -> dict[str, object]:
    from core import db
    from core.rawsql import RawSql
    from core.statistics.dashboard import PERIOD_DAYS, dashboard

    actor = await seed(edrs)
    graphs = {period: await timed(lambda p=period: dashboard(actor, p), runs) for period in PERIOD_DAYS}  # type: ignore[misc]
    since = datetime.now(UTC) - timedelta(days=30)

    async def raw() -> None:
        async with db.engine().transaction() as tx:
            await RawSql(tx.connection, sqlite=db.is_sqlite()).rows(
                "SELECT channel, status, count(*), sum(price) FROM edr WHERE partner = $1 AND created_at >= $2"
                " GROUP BY channel, status",
                actor.partner_id,  # type: ignore[attr-defined]
                since,
            )

    raw_ms = await timed(raw, runs)
    return {
        "engine": "sqlite" if db.is_sqlite() else "postgresql",
        "edrs": edrs,
        "graph_ms": graphs,
        "slowest_graph_ms": max(graphs.values()),
        "raw_ms": raw_ms,
        "ratio": round(raw_ms / graphs["30d"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--edrs", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    configure(args.pg)
    print(json.dumps(asyncio.run(measure(args.edrs, args.runs))))


if __name__ == "__main__":
    main()
