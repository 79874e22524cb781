"""Soak: one big SMS campaign on PostgreSQL + Redis through two `portal worker` processes, one SIGKILLed every 20 s.

The stand-in SMSC runs in its own process (immediate receipts) and counts every submit_sm per destination. Two
`portal worker` processes send; every KILL_EVERY_S seconds one of them (in turn) is killed with SIGKILL and
started again at once. When every message has an outcome, the figures are checked against the database: no
destination received two submits, the money adds up to the cent at every level it touches (balance, ledger,
campaign cost, EDR prices), and how many messages ended "submission outcome unknown". Prints a line per
figure and, last, one JSON object: messages, sent_twice (must be 0), ledger_exact (must be true),
unknown_outcome, receipts_missing (SENT messages whose receipt died with a killed worker), kills, msgs_per_s.

    python bench/soak.py                      # 1,000,000 messages (PostgreSQL database portal_soak, Redis db 15)
    python bench/soak.py --messages 200000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "postgresql://postgres@127.0.0.1:5432/portal_soak"
REDIS = "redis://127.0.0.1:6379/15"  # outside the test suite's Redis databases (1 to 13), which a CI run may be using
KILL_EVERY_S = 20.0
RECEIPTS_GRACE_S = 60.0
PORTAL = Path(sys.executable).with_name("portal")


def configure() -> None:
    import asyncpg
    import redis

    async def recreate() -> None:
        conn = await asyncpg.connect(ADMIN)
        await conn.execute("DROP DATABASE IF EXISTS portal_soak")
        await conn.execute("CREATE DATABASE portal_soak")
        await conn.close()

    asyncio.run(recreate())
    redis.Redis.from_url(REDIS).flushdb()
    os.environ.update(PORTAL_VAR_DIR=tempfile.mkdtemp(prefix="portal-soak-"), DATABASE_URL=DATABASE, REDIS_URL=REDIS)
    os.environ.pop("PORTAL_PLUGINS", None)


def run_smsc(port: int, ready: Any, finish: Any, counts: Any) -> None:
    """The stand-in SMSC; when ``finish`` is set, hands back (submits, destinations submitted more than once)."""
    from plugins.sms.simulator import StandInSmsc

    async def serve() -> None:
        smsc = StandInSmsc(receipt_delay=0.0, keep_last=1)
        await smsc.start("127.0.0.1", port)
        ready.set()
        # A multiprocessing Event cannot be awaited: polled, off the SMSC's hot path.
        while not finish.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        counts.put((sum(smsc.submitted.values()), sum(1 for n in smsc.submitted.values() if n > 1)))

    asyncio.run(serve())


def start_worker(log: Path) -> subprocess.Popen:
    env = {**os.environ, "PORTAL_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([str(PORTAL), "worker"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def soak(messages: int, port: int, log: Path) -> dict[str, Any]:
    from bench.dispatch import seed
    from bench.shop import RATE
    from core.app import portal_runtime
    from core.billing.tables import LedgerEntry
    from core.campaigns.schemas import CampaignCreate
    from core.campaigns.services import create_campaign, start_campaign
    from core.campaigns.tables import Campaign
    from core.dispatch.sending import UNKNOWN_OUTCOME
    from core.dispatch.tables import Edr
    from core.settings import load_settings
    from core.tenancy.tables import Partner

    actor, sender_id, group = await seed(messages, port)
    initial = (await Partner.select(Partner.balance).where(Partner.id == actor.partner_id).first())["balance"]
    workers = [start_worker(log), start_worker(log)]
    kills = 0
    async with portal_runtime(load_settings(), run_worker=False, db_pool=True) as portal:
        later = datetime(2100, 1, 1, tzinfo=UTC)
        data = CampaignCreate(sender_id=sender_id, text="Spring sale: 20% off today", group_ids=[group], send_at=later)
        campaign = await create_campaign(portal, actor, data)
        started = time.perf_counter()
        await start_campaign(portal, campaign.id, {"scheduled"})
        next_kill = started + KILL_EVERY_S
        submitted_at = None
        try:
            while True:
                row = await Campaign.select().where(Campaign.id == campaign.id).first()
                now = time.perf_counter()
                if row["status"] != "in_progress":
                    break
                if submitted_at is None and row["expanded"] and row["sent"] + row["failed"] >= row["total"]:
                    submitted_at = now
                if submitted_at is not None and now - submitted_at > RECEIPTS_GRACE_S:
                    break  # receipts that died with a killed worker never come: report them below
                if submitted_at is None and now >= next_kill:
                    victim = kills % 2
                    workers[victim].send_signal(signal.SIGKILL)
                    workers[victim].wait(10)
                    workers[victim] = start_worker(log)
                    kills += 1
                    next_kill = now + KILL_EVERY_S
                    print(f"killed and restarted worker {victim + 1} at {now - started:.0f} s: {row['sent']:,} sent")
                await asyncio.sleep(0.5)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(30)
    elapsed = (submitted_at or time.perf_counter()) - started
    row = await Campaign.select().where(Campaign.id == campaign.id).first()
    balance = (await Partner.select(Partner.balance).where(Partner.id == actor.partner_id).first())["balance"]
    ledger = await LedgerEntry.select(LedgerEntry.amount).where(LedgerEntry.partner == actor.partner_id)
    paid = await Edr.select(Edr.price).where(
        (Edr.campaign == campaign.id) & Edr.status.is_in(["SENT", "DELIVERED", "UNDELIVERED"])
    )
    unknown = await Edr.count().where((Edr.campaign == campaign.id) & (Edr.error == UNKNOWN_OUTCOME))
    missing = await Edr.count().where((Edr.campaign == campaign.id) & (Edr.status == "SENT"))
    cost = row["cost"]
    ledger_exact = (
        initial + sum(e["amount"] for e in ledger) == balance
        and initial - balance == cost
        and cost == sum(e["price"] for e in paid) == row["sent"] * RATE
    )
    return {
        "messages": row["total"],
        "sent": row["sent"],
        "unknown_outcome": unknown,
        "receipts_missing": missing,
        "ledger_exact": ledger_exact,
        "kills": kills,
        "status": row["status"],
        "msgs_per_s": round(row["total"] / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    configure()
    port = 28750 + os.getpid() % 1000
    context = multiprocessing.get_context("spawn")
    ready, finish, counts = context.Event(), context.Event(), context.Queue()
    smsc = context.Process(target=run_smsc, args=(port, ready, finish, counts), daemon=True)
    smsc.start()
    ready.wait(30)
    log = Path(os.environ["PORTAL_VAR_DIR"]) / "workers.log"
    try:
        result = asyncio.run(soak(args.messages, port, log))
        finish.set()
        submits, twice = counts.get(timeout=60)
    finally:
        smsc.terminate()
    result = {**result, "submits": submits, "sent_twice": twice}
    for name, value in result.items():
        print(f"{name}: {value}")
    print(f"worker log: {log}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
