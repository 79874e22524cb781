"""Benchmark: the dashboard's graphs and the EDR export task over one company's EDRs, next to raw baselines.

Seeds ``--edrs`` message records spread over 90 days (two channels, every status), then times
- the dashboard for each period (median of ``--runs``) against the same window counted with one plain ``GROUP BY``;
- the export task's CSV and XLSX of every record against the same rows read in the same keyset batches and
  written with the csv module, and with plain xlsxwriter (no formatting, no neutralising).
The last line is JSON: edrs, graph_ms per period, slowest_graph_ms, raw_ms (30 days), ratio (raw ÷ service),
export_csv_s, export_xlsx_s, raw_csv_s, raw_xlsx_s, export_csv_ratio and export_xlsx_ratio (raw ÷ product).

    python bench/stats.py                 # embedded SQLite
    python bench/stats.py --pg            # PostgreSQL at 127.0.0.1:5432, database portal_bench (recreated)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
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
        **await exported(actor),
        **{
            "engine": "sqlite" if db.is_sqlite() else "postgresql",
            "edrs": edrs,
            "graph_ms": graphs,
            "slowest_graph_ms": max(graphs.values()),
            "raw_ms": raw_ms,
            "ratio": round(raw_ms / graphs["30d"], 2),
        },
    }


async def exported(actor: object) -> dict[str, object]:
    """The product's export task against raw writers over the same keyset batches."""
    from types import SimpleNamespace

    import xlsxwriter

    from core.db import newest_first
    from core.dispatch.tables import Edr
    from core.settings import load_settings
    from core.statistics import exports
    from core.statistics.tables import ExportTask

    portal = SimpleNamespace(settings=load_settings())  # run_export reads only the var directory from it
    figures: dict[str, object] = {}
    for file_format in ("csv", "xlsx"):
        task = await ExportTask.insert(
            ExportTask(
                partner=actor.partner_id,  # type: ignore[attr-defined]
                user_id=actor.user_id,  # type: ignore[attr-defined]
                user_email="b@x.test",
                filters={},
                columns=list(exports.COLUMNS),
                file_format=file_format,
                delivery="download",
                status="waiting",
                created_at=datetime.now(UTC),
            )
        ).returning(ExportTask.id)
        started = time.perf_counter()
        assert await exports.run_export(portal, task[0]["id"]) == "ready"  # type: ignore[arg-type]
        figures[f"export_{file_format}_s"] = round(time.perf_counter() - started, 2)

    names = [c for c in exports.COLUMNS if c != "campaign"]
    where = Edr.partner == actor.partner_id  # type: ignore[attr-defined]
    base = Path(load_settings().var_dir) / "raw"

    started = time.perf_counter()
    with base.with_suffix(".csv").open("w", newline="") as out:
        writer = csv.writer(out)
        async for rows in newest_first(Edr, where, exports.EXPORT_BATCH):
            writer.writerows([[r[c] if r[c] is not None else "" for c in names] for r in rows])
    figures["raw_csv_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(base.with_suffix(".xlsx")), {"constant_memory": True})
    sheet, line = book.add_worksheet(), 0
    async for rows in newest_first(Edr, where, exports.EXPORT_BATCH):
        for r in rows:
            sheet.write_row(line, 0, [str(r[c]) if r[c] is not None else "" for c in names])
            line += 1
    book.close()
    figures["raw_xlsx_s"] = round(time.perf_counter() - started, 2)
    for file_format in ("csv", "xlsx"):
        figures[f"export_{file_format}_ratio"] = round(
            figures[f"raw_{file_format}_s"] / max(figures[f"export_{file_format}_s"], 0.001),
            2,  # type: ignore[operator]
        )
    figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


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
