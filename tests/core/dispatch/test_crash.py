"""DSP-3 with a real crash: a `portal worker` process is killed with SIGKILL while it submits, another one
takes over, and no destination ever receives two submit_sm; what had no answer ends failed and unpaid."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
from redis.asyncio import Redis

from core.billing.tables import LedgerEntry
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.campaigns.tables import Campaign
from core.db import json_value
from core.dispatch.expansion import BATCH
from core.dispatch.liveness import PREFIX, TTL_S, heartbeat
from core.dispatch.queueing import SENDERS_PER_CAMPAIGN
from core.dispatch.sending import UNKNOWN_OUTCOME
from core.dispatch.tables import CampaignBatch, Edr, VendorConnection
from core.portal import Portal
from core.tenancy.tables import Partner
from core.worker import SEND_QUEUE_NAME, make_queue
from tests.core.dispatch.conftest import ES_VODAFONE, FUNDS, SmsWorld, fund, wait_for_status

EXTRA = 200_000_000  # 5,000 messages at 0.04 EUR need more than the usual funds
PORTAL = Path(sys.executable).with_name("portal")


def _other_db(url: str) -> str:
    """The same Redis server, another database: only the worker processes started here listen to its queue."""
    if url.startswith("unix://"):
        return url.split("?")[0] + "?db=7"
    return url.rsplit("/", 1)[0] + "/7"


def _worker(redis_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": redis_url, "PORTAL_LOG_LEVEL": "INFO"}
    return subprocess.Popen([str(PORTAL), "worker"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def _mirror_beats(source: Redis, target: Redis) -> None:
    """Copy the worker processes' beats into the test app's Redis database, as one shared Redis would hold them:
    the test process's sweeper must not take the living workers' batches for abandoned ones."""
    while True:
        async for name in source.scan_iter(match=PREFIX + "*"):
            await target.set(name, "1", ex=TTL_S)
        await asyncio.sleep(1)


async def _until(check, limit_s: float = 30.0) -> None:
    for _ in range(int(limit_s / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def test_a_killed_worker_never_causes_a_second_submit(app, sms: SmsWorld, settings, tmp_path: Path):
    url = _other_db(settings.redis_url)
    redis = Redis.from_url(url)
    await redis.flushdb()
    portal = Portal(
        msgspec.structs.replace(settings, redis_url=url), redis, make_queue(url), make_queue(url, SEND_QUEUE_NAME)
    )
    await portal.queue.connect()
    await portal.send_queue.connect()
    # The test process's own worker shares the database and may take part; in production every process beats in
    # the one Redis, so each side's Redis database sees the other side's beats too.
    beating = contextlib.AsyncExitStack()
    await beating.enter_async_context(heartbeat(redis))
    app_redis = Redis.from_url(settings.redis_url)
    mirror = asyncio.create_task(_mirror_beats(redis, app_redis))
    # Long response timeout: the first worker must still be waiting for answers when it is killed.
    connection = await VendorConnection.select().first()
    slow = {**json_value(connection["settings"]), "response_timeout": 120}
    await VendorConnection.update({VendorConnection.settings: slow}).where(VendorConnection.id == connection["id"])
    sms.smsc.mute = True
    await fund(sms.tenant.end_user_id, EXTRA)
    numbers = [f"34607{n:06d}" for n in range(5000)]
    log = tmp_path / "workers.log"
    first = _worker(url, log)
    try:
        created = await create_campaign(
            portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers)
        )

        async def submitting() -> bool:
            busy = await CampaignBatch.exists().where(
                (CampaignBatch.campaign == created.id) & (CampaignBatch.state == "submitting")
            )
            return busy and sum(sms.smsc.submitted.values()) > 0

        await _until(submitting)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        unanswered = sum(sms.smsc.submitted.values())
        sms.smsc.mute = False
        second = _worker(url, log)
        try:
            done = await wait_for_status(created.id, {"completed", "failed", "paused"}, limit_s=90)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    finally:
        if first.poll() is None:
            first.kill()
        mirror.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await mirror
        await beating.aclose()
        await portal.queue.disconnect()
        await portal.send_queue.disconnect()
        await redis.aclose()
        await app_redis.aclose()

    assert done["status"] == "completed", log.read_text()[-3000:]
    assert max(sms.smsc.submitted.values()) == 1  # nothing was submitted twice
    unknown = await Edr.count().where((Edr.campaign == created.id) & (Edr.error == UNKNOWN_OUTCOME))
    # Whole batches that were being submitted are unknown (at most one per send job), not only what hit the wire.
    assert 0 < unanswered <= unknown <= SENDERS_PER_CAMPAIGN * BATCH
    assert done["sent"] == 5000 - unknown and done["failed"] == unknown == 5000 - done["delivered"]
    charged = done["sent"] * ES_VODAFONE  # the unknown ones were refunded
    balance = (await Partner.select(Partner.balance).where(Partner.id == sms.tenant.end_user_id).first())["balance"]
    assert balance == FUNDS + EXTRA - charged
    ledger = await LedgerEntry.select().where(LedgerEntry.partner == sms.tenant.end_user_id)
    assert sum(e["amount"] for e in ledger) == balance
    assert (await Campaign.select(Campaign.cost).where(Campaign.id == created.id).first())["cost"] == charged
