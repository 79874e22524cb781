"""Benchmark: a Viber → SMS cascade (CMP-7) to 100,000 contacts, next to an SMS-only campaign in the same run.

The Viber stand-in (a process of its own) leaves every number from 34607050000 up undelivered, so half the
recipients go on to the SMS step; the SMS-only campaign then sends to those same 50,000 numbers. PostgreSQL +
Redis (database portal_bench recreated, Redis db 14); the app runs under uvicorn on a free port with its worker, so
the stand-in's signed status callbacks reach its webhook as in production, and the stand-in SMSC runs in a process
of its own (4 binds, window 64); the Viber connection allows 10,000 msg/s with 50 requests in flight (with the
default 10, the figure was the round trip on a loaded machine rather than the portal's work). The SMS step is handed
its recipients as Viber's failures come in (the dispatch sweep, every 10 s, hands over again each second while
there are more), so every rate is messages sent ÷ the time the campaign (or step) had a backlog — messages
written and not yet sent: its own speed, not the pace of what feeds it. Prints one line per figure and, last, one
JSON object: recipients, viber_msgs_per_s, sms_msgs_per_s, sms_only_msgs_per_s, ratio (SMS step ÷ SMS only;
target ≥ 0.7), peak_mb (≤ 1,024).

    python bench/cascade.py                      # 100,000 recipients
    python bench/cascade.py --recipients 20000
    python bench/cascade.py --database h3_bench --redis-url redis://127.0.0.1:16330/0   # one's own, beside others
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dispatch import add_connections, add_contacts, configure, run_smsc  # noqa: E402

VIBER_RATE = 20_000  # 0.02 EUR a message to any Spanish network


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_viber(port: int, missed: list[str], ready: Any) -> None:
    """The Viber stand-in in its own process: the ``missed`` prefixes end undelivered, the rest delivered."""
    from plugins.viber.simulator import StandInViber

    async def serve() -> None:
        viber = StandInViber(outcomes=dict.fromkeys(missed, "undelivered"), keep_last=1)
        await viber.start("127.0.0.1", port)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(serve())


def missed_prefixes(recipients: int) -> list[str]:
    """Prefixes covering the upper half of 34607000000 … (recipients - 1), a thousand numbers each."""
    return [f"34607{n // 1000:03d}" for n in range(recipients // 2, recipients, 1000)]


async def seed(recipients: int, smsc_port: int, viber_port: int) -> tuple[Any, int, int, int]:
    """The shop with funds, its contacts, 4 SMPP binds, a Viber connection, sender ID and plan."""
    from bench.shop import RATE, sms_shop
    from core import db
    from core.billing.tables import PlanAssignment, Rate, RatePlan
    from core.dispatch.tables import VendorConnection
    from core.senders.tables import Sender
    from core.tenancy.tables import Partner

    shop = await sms_shop()
    company = shop.company_id
    await Partner.update({Partner.balance: recipients * (RATE + VIBER_RATE) * 4}).where(Partner.id == company)
    await add_contacts(company, shop.group_id, recipients)
    await add_connections(smsc_port)
    now = datetime.now(UTC)
    settings = {
        "api_url": f"http://127.0.0.1:{viber_port}",
        "api_key": "demo-key",
        "webhook_secret": "viber-demo-secret",
        "throughput": 10_000,  # the most a connection allows
        "window": 50,  # in flight: at the default 10, the loaded box's round trip, not the portal, set Viber's pace
    }
    await VendorConnection.insert(
        VendorConnection(channel="viber", name="Viber", settings=settings, enabled=True, created_at=now, updated_at=now)
    )
    sender = await Sender.insert(
        Sender(partner=company, channel="viber", name="SHOPV", status="enabled", created_at=now)
    ).returning(Sender.id)
    owner = await Partner.select(Partner.id, Partner.path).where(Partner.kind == "owner").first()
    plan = await RatePlan.insert(
        RatePlan(
            partner=owner["id"],
            partner_path=owner["path"],
            name="Viber",
            channel="viber",
            mode="delivered",
            currency="EUR",
            created_at=now,
            updated_at=now,
        )
    ).returning(RatePlan.id)
    await Rate.insert(Rate(plan=plan[0]["id"], country_iso="ES", mcc="214", mnc="", price=VIBER_RATE))
    await PlanAssignment.insert(
        PlanAssignment(partner=company, plan=plan[0]["id"], channel="viber", slot=f"{company}:viber", assigned_at=now)
    )
    await db.engine().run_ddl("ANALYZE")
    return await shop.actor(), shop.sender_id, sender[0]["id"], shop.group_id


class Window:
    """How long a campaign (or step) had messages written and not yet sent: the time it was busy sending."""

    def __init__(self) -> None:
        self.busy = 0.0

    def rate(self, sent: int) -> float:
        return sent / max(self.busy, 1e-9)


async def follow(campaign_ids: list[int], started: float) -> list[Window]:
    """Poll the campaigns until the first (the cascade's first step) is finished; each one's sending window."""
    from core.campaigns.tables import Campaign

    windows = [Window() for _ in campaign_ids]
    deadline, before = started + 1800, time.perf_counter()
    while True:
        assert time.perf_counter() < deadline, "the campaign did not finish within 30 minutes"
        rows = {r["id"]: r for r in await Campaign.select().where(Campaign.id.is_in(campaign_ids))}
        now = time.perf_counter()
        for window, campaign_id in zip(windows, campaign_ids, strict=True):
            row = rows[campaign_id]
            if row["total"] > row["sent"] + row["failed"]:  # a backlog since the last look: busy meanwhile
                window.busy += now - before
        before = now
        if rows[campaign_ids[0]]["status"] in ("completed", "failed", "paused"):
            assert rows[campaign_ids[0]]["status"] == "completed", rows[campaign_ids[0]]
            return windows
        await asyncio.sleep(0.05)


async def measure(recipients: int, smsc_port: int, viber_port: int) -> dict[str, float]:
    import msgspec
    import uvicorn

    from core.app import create_app
    from core.campaigns.schemas import CampaignCreate, CascadeStepIn
    from core.campaigns.services import create_campaign
    from core.campaigns.tables import Campaign

    actor, sms_sender, viber_sender, group = await seed(recipients, smsc_port, viber_port)
    app = create_app(run_worker=True, db_pool=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 — uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    portal = app.state.portal
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    portal.settings = msgspec.structs.replace(portal.settings, webhook_base_url=base)
    half = recipients - recipients // 2
    try:
        data = CampaignCreate(
            channel="viber",
            sender_id=viber_sender,
            text="Spring sale: 20% off today",
            group_ids=[group],
            fallback_ttl=3600,
            cascade=[CascadeStepIn(channel="sms", sender_id=sms_sender)],
        )
        started = time.perf_counter()
        cascade = await create_campaign(portal, actor, data)
        step = await Campaign.select(Campaign.id).where(Campaign.root_id == cascade.id).first()
        viber, sms = await follow([cascade.id, step["id"]], started)
        rows = {r["id"]: r for r in await Campaign.select().where(Campaign.id.is_in([cascade.id, step["id"]]))}
        assert rows[step["id"]]["delivered"] == half, rows[step["id"]]
        figures = {
            "cascade_s": time.perf_counter() - started,
            "viber_msgs_per_s": viber.rate(rows[cascade.id]["sent"]),
            "sms_msgs_per_s": sms.rate(rows[step["id"]]["sent"]),
        }
        numbers = [f"34607{n:06d}" for n in range(recipients // 2, recipients)]
        only = CampaignCreate(sender_id=sms_sender, text="Spring sale: 20% off today", numbers=numbers)
        started = time.perf_counter()
        plain = await create_campaign(portal, actor, only)
        [alone] = await follow([plain.id], started)
        figures["sms_only_msgs_per_s"] = alone.rate(half)
    finally:
        server.should_exit = True
        await task
    figures["ratio"] = figures["sms_msgs_per_s"] / figures["sms_only_msgs_per_s"]
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--database", default="", help="a PostgreSQL database of one's own (recreated)")
    parser.add_argument("--redis-url", default="", help="a Redis of one's own (with --database; else embedded)")
    parser.add_argument("--profile", default="", help="write cProfile stats of the portal's process to this file")
    args = parser.parse_args()
    configure(sqlite=False, database=args.database)
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        os.environ["REDIS_URL"] = args.redis_url
    spawn = multiprocessing.get_context("spawn")
    smsc_ready, viber_ready = spawn.Event(), spawn.Event()
    smsc_port, viber_port = free_port(), free_port()  # two runs side by side must not share the stand-ins
    smsc = spawn.Process(target=run_smsc, args=(smsc_port, smsc_ready), daemon=True)
    missed = missed_prefixes(args.recipients)
    viber = spawn.Process(target=run_viber, args=(viber_port, missed, viber_ready), daemon=True)
    smsc.start()
    viber.start()
    smsc_ready.wait(30)
    viber_ready.wait(30)
    try:
        if args.profile:
            import cProfile

            with cProfile.Profile() as profile:
                figures = asyncio.run(measure(args.recipients, smsc_port, viber_port))
            profile.dump_stats(args.profile)
        else:
            figures = asyncio.run(measure(args.recipients, smsc_port, viber_port))
    finally:
        smsc.terminate()
        viber.terminate()
    result = {"recipients": args.recipients, **{k: round(v, 3) for k, v in figures.items()}}
    result["load_average"] = round(os.getloadavg()[0], 2)  # the machine is shared: the figures depend on it
    for key, value in result.items():
        print(f"{key:>20}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
