"""Benchmark: the finance history's CSV and XLSX exports of one company, next to a raw read-and-write baseline.

Seeds ``--rows`` ledger rows (every tenth a campaign charge with a three-line breakdown), then times the
service's streamed CSV and its XLSX file against the same rows read with one plain SELECT and written with the
csv module (no formatting, no neutralising). The last line is JSON: rows, csv_s, xlsx_s, raw_s, csv_ratio.

    python bench/finance_export.py            # embedded SQLite
    python bench/finance_export.py --pg       # PostgreSQL at 127.0.0.1:5432, database portal_bench (recreated)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.contacts_page import configure  # noqa: E402 - after the path is set

LINES = [
    {
        "country": "Spain",
        "network": "Vodafone",
        "mccmnc": "21401",
        "quantity": 40,
        "parts": 40,
        "rate": 40_000,
        "total": 1_600_000,
    },
    {
        "country": "Spain",
        "network": "Orange",
        "mccmnc": "21403",
        "quantity": 25,
        "parts": 25,
        "rate": 50_000,
        "total": 1_250_000,
    },
    {
        "country": "Germany",
        "network": "Telekom",
        "mccmnc": "26201",
        "quantity": 10,
        "parts": 20,
        "rate": 60_000,
        "total": 1_200_000,
    },
]


async def seed(rows: int) -> object:
    from core import db
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.billing.tables import LedgerEntry

    await db.migrate()
    actor = await create_owner(
        "Bench", "EUR", UserCreate(email="b@x.test", first_name="B", last_name="O", password="bench-password-1")
    )
    start = datetime.now(UTC) - timedelta(days=365)
    batch = []
    async with db.write_transaction():
        for n in range(rows):
            campaign = n % 10 == 0
            batch.append(
                LedgerEntry(
                    partner=actor.partner_id,
                    kind="campaign" if campaign else "api",
                    amount=-4_050_000 if campaign else -40_000,
                    balance_after=1_000_000_000 - n * 40_000,
                    currency="EUR",
                    initiator_email="" if n % 3 else "anna@acme.test",
                    description=f"Campaign {n}" if campaign else f"API messages {n}",
                    details={"campaign_id": n, "lines": LINES} if campaign else {},
                    created_at=start + timedelta(seconds=n * 30),
                )
            )
            if len(batch) == 2000:
                await LedgerEntry.insert(*batch)
                batch = []
        if batch:
            await LedgerEntry.insert(*batch)
    return actor


async def measure(rows: int) -> dict[str, object]:
    from core import db
    from core.billing import finance
    from core.billing.finance import FinanceFilter
    from core.billing.tables import LedgerEntry

    actor = await seed(rows)
    started = time.perf_counter()
    size = 0
    async for chunk in await finance.export_csv(actor, FinanceFilter()):
        size += len(chunk)
    csv_s = time.perf_counter() - started

    started = time.perf_counter()
    path = await finance.export_xlsx(actor, FinanceFilter())
    xlsx_s = time.perf_counter() - started
    xlsx_bytes = path.stat().st_size
    path.unlink()

    started = time.perf_counter()
    out = io.StringIO()
    writer = csv.writer(out)
    last = None
    while True:
        query = LedgerEntry.select().where(LedgerEntry.partner == actor.partner_id)
        if last is not None:
            query = query.where(LedgerEntry.id < last)
        batch = await query.order_by(LedgerEntry.id, ascending=False).limit(finance.EXPORT_BATCH)
        if not batch:
            break
        last = batch[-1]["id"]
        for row in batch:
            writer.writerow([row["created_at"], row["kind"], row["amount"], row["balance_after"], row["description"]])
    raw_s = time.perf_counter() - started
    return {
        "engine": "sqlite" if db.is_sqlite() else "postgresql",
        "rows": rows,
        "csv_bytes": size,
        "xlsx_bytes": xlsx_bytes,
        "csv_s": round(csv_s, 2),
        "xlsx_s": round(xlsx_s, 2),
        "raw_s": round(raw_s, 2),
        "csv_rows_per_s": round(rows / csv_s),
        "csv_ratio": round(raw_s / csv_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    configure(args.pg)
    results = asyncio.run(measure(args.rows))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
