"""Benchmark: one SMS campaign end to end through the engine and the stand-in SMSC, next to raw baselines.

A campaign to 200,000 contacts of a group (1,000,000 with --full) is started on PostgreSQL + Redis (or the
embedded SQLite + Redis with --sqlite) and followed until every EDR is final: expansion (EDRs written),
time to the first submit_sm, sustained messages per second from the first submit to the last result, time
until every delivery report is applied, and the process's peak memory. The stand-in SMSC runs in its own
process with immediate receipts; the portal binds 4 SMPP connections to it (window 64). Baselines measured
in the same run: a raw COPY of the same number of EDR-shaped rows, and a raw SMPP client blasting the same
number of pre-encoded submit_sm at the same stand-in over 4 connections (bench/smpp_raw.py). Prints one line
per figure and, last, one JSON object.

    python bench/dispatch.py            # PostgreSQL 127.0.0.1:5432 (database portal_bench, recreated) + Redis db 5
    python bench/dispatch.py --full     # 1,000,000 recipients
    python bench/dispatch.py --sqlite   # embedded SQLite + embedded Redis
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "postgresql://postgres@127.0.0.1:5432/portal_bench"
REDIS = "redis://127.0.0.1:6379/5"
CONNECTIONS = 4


def configure(sqlite: bool) -> None:
    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.pop("PORTAL_PLUGINS", None)
    if sqlite:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        return
    import asyncpg
    import redis

    async def recreate() -> None:
        conn = await asyncpg.connect(ADMIN)
        await conn.execute("DROP DATABASE IF EXISTS portal_bench")
        await conn.execute("CREATE DATABASE portal_bench")
        await conn.close()

    asyncio.run(recreate())
    redis.Redis.from_url(REDIS).flushdb()
    os.environ["DATABASE_URL"] = DATABASE
    os.environ["REDIS_URL"] = REDIS


def run_smsc(port: int, ready: multiprocessing.synchronize.Event) -> None:
    """The stand-in SMSC in its own process, as a vendor would be: immediate receipts, every message delivered."""
    from plugins.sms.simulator import StandInSmsc

    async def serve() -> None:
        smsc = StandInSmsc(receipt_delay=0.0, keep_last=1)
        await smsc.start("127.0.0.1", port)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(serve())


async def seed(recipients: int, port: int) -> tuple[object, int, int]:
    """The shop (bench/shop.py) with funds, a group of ``recipients`` contacts and 4 vendor connections."""
    from bench.shop import RATE, sms_shop
    from core import db
    from core.contacts.tables import Contact, ContactGroupMember
    from core.dispatch.tables import VendorConnection
    from core.tenancy.tables import Partner

    shop = await sms_shop()
    company, group = shop.company_id, shop.group_id
    await Partner.update({Partner.balance: recipients * RATE * 2}).where(Partner.id == company)
    now = datetime.now(UTC)
    for start in range(0, recipients, 2_000):
        rows = [
            Contact(
                partner=company,
                phone=f"34607{n:06d}",
                first_name="",
                last_name="",
                comments="",
                gender="",
                custom={},
                blocked_all=False,
                created_at=now,
                updated_at=now,
            )
            for n in range(start, min(recipients, start + 2_000))
        ]
        ids = [r["id"] for r in await Contact.insert(*rows).returning(Contact.id)]
        await ContactGroupMember.insert(*[ContactGroupMember(contact=i, group=group) for i in ids])
    for n in range(CONNECTIONS):
        settings = {
            "host": "127.0.0.1",
            "port": port,
            "system_id": "portal",
            "password": "secret",
            "throughput": 100_000,
            "window": 64,
        }
        await VendorConnection.insert(
            VendorConnection(
                channel="sms", name=f"Stand-in {n + 1}", settings=settings, enabled=True, created_at=now, updated_at=now
            )
        )
    if not db.is_sqlite():
        # The contacts were imported long before the campaign: autovacuum has analysed them by now.
        await db.engine().run_ddl("ANALYZE")
    return await shop.actor(), shop.sender_id, group


async def run_campaign(recipients: int, port: int) -> dict[str, float]:
    from core.app import create_app
    from core.campaigns.schemas import CampaignCreate
    from core.campaigns.services import create_campaign, start_campaign
    from core.campaigns.tables import Campaign
    from core.dispatch.tables import CampaignBatch

    actor, sender_id, group = await seed(recipients, port)
    app = create_app(run_worker=True, db_pool=True)
    figures: dict[str, float] = {}
    async with app.lifespan():
        portal = app.state.portal
        later = datetime(2100, 1, 1, tzinfo=UTC)
        data = CampaignCreate(sender_id=sender_id, text="Spring sale: 20% off today", group_ids=[group], send_at=later)
        campaign = await create_campaign(portal, actor, data)
        started = time.perf_counter()
        await start_campaign(portal, campaign.id, {"scheduled"})
        first_submit = expanded = sent_all = None
        while True:
            row = await Campaign.select().where(Campaign.id == campaign.id).first()
            now = time.perf_counter() - started
            if first_submit is None and await CampaignBatch.exists().where(
                (CampaignBatch.campaign == campaign.id) & CampaignBatch.state.is_in(["submitting", "done"])
            ):
                first_submit = now
            if expanded is None and row["expanded"]:
                expanded = now
            if sent_all is None and row["sent"] + row["failed"] >= recipients:
                sent_all = now
            if row["status"] in ("completed", "failed", "paused"):
                break
            await asyncio.sleep(0.01)
        final = time.perf_counter() - started
        assert row["status"] == "completed" and row["delivered"] == recipients, row
    figures["expansion_s"] = expanded or final
    figures["first_submit_s"] = first_submit or final
    figures["all_sent_s"] = sent_all or final
    figures["all_final_s"] = final
    figures["msgs_per_s"] = recipients / max((sent_all or final) - (first_submit or 0), 1e-9)
    figures["end_to_end_msgs_per_s"] = recipients / final
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


async def raw_copy(recipients: int) -> float:
    """The same number of EDR-shaped rows written with COPY (executemany on SQLite) into a scratch table."""
    from bench.shop import RATE
    from core.db import is_sqlite, write_transaction
    from core.dispatch.expansion import EDR_COLUMNS
    from core.rawsql import RawSql

    now = datetime.now(UTC)
    rows = [
        (
            1,
            1,
            1,
            f"t{n}",
            "sms",
            "SHOP",
            f"34607{n:06d}",
            None,
            1,
            "ES",
            "Spain",
            "21401",
            "Vodafone",
            RATE,
            RATE,
            False,
            "PREPARED",
            "",
            now,
            None,
        )
        for n in range(recipients)
    ]
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        await sql.execute("CREATE TEMP TABLE edr_copy AS SELECT * FROM edr WHERE FALSE")
        started = time.perf_counter()
        for start in range(0, recipients, 5_000):
            await sql.bulk("edr_copy", EDR_COLUMNS, rows[start : start + 5_000])
        elapsed = time.perf_counter() - started
        await sql.execute("DROP TABLE edr_copy")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,000,000 recipients instead of 200,000")
    parser.add_argument("--sqlite", action="store_true", help="embedded SQLite + Redis instead of PostgreSQL + Redis")
    args = parser.parse_args()
    recipients = 1_000_000 if args.full else 200_000
    configure(args.sqlite)
    port = 27750 + os.getpid() % 1000
    ready = multiprocessing.get_context("spawn").Event()
    smsc = multiprocessing.get_context("spawn").Process(target=run_smsc, args=(port, ready), daemon=True)
    smsc.start()
    ready.wait(30)
    try:
        figures = asyncio.run(run_campaign(recipients, port))

        async def baselines() -> tuple[float, float]:
            from bench.smpp_raw import raw_blast_async
            from core import db

            await db.open_pool()
            try:
                copy_s = await raw_copy(recipients)
            finally:
                await db.close_pool()
            return copy_s, await raw_blast_async("127.0.0.1", port, recipients, CONNECTIONS, 64)

        copy_s, blast = asyncio.run(baselines())
    finally:
        smsc.terminate()
    result = {
        "backend": "sqlite" if args.sqlite else "postgresql",
        "recipients": recipients,
        "expansion_s": round(figures["expansion_s"], 2),
        "baseline_copy_s": round(copy_s, 2),
        "first_submit_s": round(figures["first_submit_s"], 3),
        "msgs_per_s": round(figures["msgs_per_s"]),
        "end_to_end_msgs_per_s": round(figures["end_to_end_msgs_per_s"]),
        "baseline_msgs_per_s": round(blast),
        "ratio": round(figures["msgs_per_s"] / blast, 3),
        "all_final_s": round(figures["all_final_s"], 2),
        "peak_mb": round(figures["peak_mb"], 1),
    }
    print(f"backend: {result['backend']}; recipients: {recipients:,} over {CONNECTIONS} SMPP connections")
    copy = result["baseline_copy_s"]
    print(f"expansion (every EDR written): {result['expansion_s']} s   raw COPY of as many rows: {copy} s")
    print(f"first submit_sm after start: {result['first_submit_s']} s (target ≤ 1 s)")
    print(
        f"sustained sending: {result['msgs_per_s']} msg/s   raw SMPP blast: {result['baseline_msgs_per_s']} msg/s   "
        f"ratio {result['ratio']} (target ≥ 0.5; ≥ 3,000 msg/s)"
    )
    print(f"every EDR final after: {result['all_final_s']} s ({result['end_to_end_msgs_per_s']} msg/s end to end)")
    print(f"peak memory of the portal process: {result['peak_mb']} MB (target ≤ 1 GB)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
