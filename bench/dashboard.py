"""Benchmark: the dashboard's graphs from the EDR rollups (DSH-2) against the same numbers counted straight from EDRs.

On PostgreSQL (a database of its own, recreated): COPYs ``--edrs`` message records (default 1,000,000) over 90 days for
an owner and three clients, through the ``edr`` triggers the product uses; folds the deltas the way the worker's cron
does (timed); then, for each scope (the owner's subtree, its biggest client, that client in a time zone 45 minutes
off the hour) and each period, times (median of ``--runs``)
- the graphs' query (messages and cost by status and channel: rollup + unfolded deltas + EDRs of part-hours),
- the whole dashboard service (graphs, MO graphs, last campaign, plans),
- the same counts with one ``GROUP BY`` straight on the EDRs over the (partner, created_at) index.
A late-receipt wave (status changes of 1 % of the EDRs in one statement, through the triggers) is timed too.
The migration's backfill is timed over the same EDRs and checked equal to what the triggers and folds built.
The last line is JSON: edrs, copy_s, fold_s, late_update_s, backfill_s, graph_ms, dashboard_ms, raw_ms,
slowest_graph_ms, slowest_dashboard_ms, raw_slowest_ms, ratio (raw_slowest_ms ÷ slowest_graph_ms).

    python bench/dashboard.py                    # 1,000,000 EDRs
    python bench/dashboard.py --edrs 10000000    # the issue's size
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file's name shadows the standard library's ``statistics`` for anything imported after Python put bench/ first
# on the path: the project's root replaces it.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402 — after the path is set
import asyncio  # noqa: E402 — after the path is set
import json  # noqa: E402 — after the path is set
import os  # noqa: E402 — after the path is set
import random  # noqa: E402 — after the path is set
import statistics  # noqa: E402 — after the path is set
import tempfile  # noqa: E402 — after the path is set
import time  # noqa: E402 — after the path is set
from datetime import UTC, datetime, timedelta  # noqa: E402 — after the path is set

CHUNK = 100_000
CHANNELS = ("sms",) * 6 + ("viber",) * 3 + ("whatsapp",)
STATUSES = ("DELIVERED",) * 7 + ("UNDELIVERED", "FAILED", "SENT")
SENDERS = ("Brand", "Shop", "Alerts", "Bank", "Taxi")
COUNTRIES = ("ES", "DE", "FR", "IT", "GB", "TR")
SHARES = (0.05, 0.6, 0.25, 0.1)  # owner, client 1 (the biggest), client 2, client 3
PERIODS = ("today", "7d", "30d", "90d")


def configure(database: str) -> None:
    import asyncpg

    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")

    async def recreate() -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await conn.execute(f'CREATE DATABASE "{database}"')
        await conn.close()

    asyncio.run(recreate())
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{database}"


async def seed(edrs: int) -> tuple[list[object], dict[str, float]]:
    """The owner and its clients as actors, and the seconds COPY (with the triggers) and the fold took."""
    import msgspec

    from core import db
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.statistics import rollups
    from core.tenancy.schemas import PartnerCreate
    from core.tenancy.services import create_partner

    await db.migrate()
    await db.open_pool()
    owner = await create_owner(
        "Bench", "EUR", UserCreate(email="b@x.test", first_name="B", last_name="O", password="bench-password-1")
    )
    actors = [owner]
    for n in range(1, 4):
        client = await create_partner(owner, PartnerCreate(name=f"Client {n}", kind="end_user"))
        actors.append(
            msgspec.structs.replace(
                owner,
                partner_id=client.id,
                partner_name=client.name,
                partner_kind="end_user",
                partner_path=f"{owner.partner_path}{client.id:010d}/",
            )
        )
    partners = [a.partner_id for a in actors]  # type: ignore[attr-defined]
    rng = random.Random(14)
    now = datetime.now(UTC)
    span = 90 * 86_400
    columns = ("partner", "channel", "sender", "destination", "status", "price", "country_iso", "created_at")
    started = time.perf_counter()
    copy_chunk_s = copy_plain_s = 0.0
    for first in range(0, edrs, CHUNK):
        rows = [
            (
                rng.choices(partners, SHARES)[0],
                rng.choice(CHANNELS),
                rng.choice(SENDERS),
                f"3460{n:08d}",
                rng.choice(STATUSES),
                rng.choice((30_000, 40_000, 55_000)),
                rng.choice(COUNTRIES),
                now - timedelta(seconds=rng.random() * span),
            )
            for n in range(first, min(first + CHUNK, edrs))
        ]
        async with db.engine().transaction() as tx:
            if first == 0:  # the first chunk once more into a copy of edr without the triggers: their overhead
                await tx.connection.execute("CREATE TEMP TABLE edr_plain (LIKE edr INCLUDING ALL)")
                plain = time.perf_counter()
                await tx.connection.copy_records_to_table("edr_plain", records=rows, columns=columns)
                copy_plain_s = time.perf_counter() - plain
                plain = time.perf_counter()
                await tx.connection.copy_records_to_table("edr", records=rows, columns=columns)
                copy_chunk_s = time.perf_counter() - plain
                await tx.connection.execute("DROP TABLE edr_plain")
            else:
                await tx.connection.copy_records_to_table("edr", records=rows, columns=columns)
    copy_s = time.perf_counter() - started
    async with db.engine().transaction() as tx:
        deltas = await tx.connection.fetchval("SELECT count(*) FROM edr_rollup_delta")
    started = time.perf_counter()
    await rollups.fold_all()
    fold_s = time.perf_counter() - started
    return actors, {
        "copy_s": round(copy_s, 2),
        "copy_chunk_s": round(copy_chunk_s, 2),  # one COPY of CHUNK random EDRs through the triggers
        "copy_chunk_plain_s": round(copy_plain_s, 2),  # the same rows into a table without them
        "deltas": deltas,
        "fold_s": round(fold_s, 2),
    }


async def timed(action: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


async def measure(edrs: int, runs: int) -> dict[str, object]:
    import asyncpg
    import msgspec
    from piccolo.query.functions.aggregate import Count, Sum

    from core import db
    from core.dispatch.tables import Edr
    from core.statistics import rollups
    from core.statistics.dashboard import PERIOD_DAYS, _scope, dashboard
    from core.web.periods import day_range, today

    actors, figures = await seed(edrs)
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])

    # A wave of late receipts: 1 % of the EDRs change status in one statement; the triggers write the deltas.
    started = time.perf_counter()
    await conn.execute(
        "UPDATE edr SET status = CASE status WHEN 'SENT' THEN 'DELIVERED' ELSE 'UNDELIVERED' END WHERE id % 100 = 7"
    )
    figures["late_update_s"] = round(time.perf_counter() - started, 2)
    figures["late_deltas"] = await conn.fetchval("SELECT count(*) FROM edr_rollup_delta")
    started = time.perf_counter()
    await rollups.fold_all()
    figures["late_fold_s"] = round(time.perf_counter() - started, 2)
    # What autovacuum does after a load: the planner's statistics and the visibility map.
    for table in ("edr", "edr_rollup", "edr_rollup_status", "edr_rollup_delta"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    # The migration's backfill over the same EDRs: its time, and the same numbers as the triggers and folds gave.
    started = time.perf_counter()
    await conn.execute(
        "CREATE TEMP TABLE backfill AS SELECT partner, date_trunc('hour', created_at, 'UTC') AS hour, channel, status,"
        " sender, country_iso, count(*) AS messages, sum(price) AS cost FROM edr GROUP BY 1, 2, 3, 4, 5, 6"
    )
    figures["backfill_s"] = round(time.perf_counter() - started, 2)
    differ = await conn.fetchval(
        "SELECT count(*) FROM (SELECT partner, hour, channel, status, sender, country_iso, messages, cost::numeric"
        " FROM edr_rollup WHERE messages <> 0 OR cost <> 0 EXCEPT SELECT * FROM backfill) AS d"
    )
    figures["rollup_rows"] = await conn.fetchval("SELECT count(*) FROM edr_rollup")
    figures["graph_rollup_rows"] = await conn.fetchval("SELECT count(*) FROM edr_rollup_status")
    live = await conn.fetchval("SELECT count(*) FROM edr_rollup WHERE messages <> 0 OR cost <> 0")
    assert differ == 0 and live == await conn.fetchval("SELECT count(*) FROM backfill"), differ
    # Leave a few unfolded deltas, as between two cron ticks.
    await conn.execute("UPDATE edr SET status = 'FAILED' WHERE id % 10000 = 3")
    await conn.close()

    scopes = {
        "subtree": actors[0],
        "client": actors[1],
        "client_kathmandu": msgspec.structs.replace(actors[1], timezone="Asia/Kathmandu"),  # type: ignore[type-var]
    }
    graph_ms: dict[str, float] = {}
    dashboard_ms: dict[str, float] = {}
    raw_ms: dict[str, float] = {}
    for scope, actor in scopes.items():
        partner_ids, _, _ = await _scope(actor, None)  # type: ignore[arg-type]
        for period in PERIODS:
            last_day = today(actor.timezone)  # type: ignore[attr-defined]
            start, end = day_range(last_day - timedelta(days=PERIOD_DAYS[period] - 1), last_day, actor.timezone)  # type: ignore[attr-defined]
            assert start is not None and end is not None

            async def graphs(p=partner_ids, s=start, e=end) -> object:
                return await rollups.by_channel_and_status(p, s, e)

            async def raw(p=partner_ids, s=start, e=end) -> object:
                return await (
                    Edr.select(Edr.channel, Edr.status, Count(alias="n"), Sum(Edr.price, alias="cost"))
                    .where(Edr.partner.is_in(p) & (Edr.created_at >= s) & (Edr.created_at < e))
                    .group_by(Edr.channel, Edr.status)
                )

            fast = {(r["channel"], r["status"]): (r["n"], r["cost"]) for r in await graphs()}  # type: ignore[attr-defined]
            slow = {(r["channel"], r["status"]): (r["n"], int(r["cost"] or 0)) for r in await raw()}  # type: ignore[attr-defined]
            assert fast == {k: v for k, v in slow.items() if v[0]}, f"{scope} {period}: rollups differ from EDRs"
            key = f"{scope}/{period}"
            graph_ms[key] = await timed(graphs, runs)
            dashboard_ms[key] = await timed(lambda a=actor, p=period: dashboard(a, p), runs)  # type: ignore[misc]
            raw_ms[key] = await timed(raw, runs)
            print(key, graph_ms[key], dashboard_ms[key], raw_ms[key], file=sys.stderr)
    await db.close_pool()
    slowest, raw_slowest = max(graph_ms.values()), max(raw_ms.values())
    return {
        **figures,
        "graph_ms": graph_ms,
        "dashboard_ms": dashboard_ms,
        "raw_ms": raw_ms,
        "edrs": edrs,
        "slowest_graph_ms": slowest,
        "slowest_dashboard_ms": max(dashboard_ms.values()),
        "raw_slowest_ms": raw_slowest,
        "ratio": round(raw_slowest / max(slowest, 0.1), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edrs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default="portal_bench_statistics")
    args = parser.parse_args()
    configure(args.database)
    print(json.dumps(asyncio.run(measure(args.edrs, args.runs))))


if __name__ == "__main__":
    main()
