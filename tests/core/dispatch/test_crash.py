"""DSP-3 with real crashes: `portal worker` processes are killed with SIGKILL while they submit. No destination
ever receives two submit_sm; only what may have reached the SMSC unanswered ends failed and unpaid; what never
left is sent by the workers that take over; and the campaign completes with no manual step."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from saq import Status

import core.dispatch.jobs
from core.billing.tables import LedgerEntry
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign, start_due
from core.campaigns.tables import Campaign
from core.db import json_value
from core.dispatch import submission
from core.dispatch.expansion import BATCH
from core.dispatch.queueing import SENDERS_PER_CAMPAIGN, prepare_key, send_keys
from core.dispatch.sending import UNKNOWN_OUTCOME
from core.dispatch.tables import CampaignBatch, Edr, VendorConnection
from core.tenancy.tables import Partner
from plugins.sms.simulator import StandInSmsc
from tests.core.dispatch.conftest import ES_VODAFONE, FUNDS, SmsWorld, fund, wait_for_status
from tests.core.dispatch.workers import kill, start_worker, stop, workers_portal
from tests.waiting import eventually

EXTRA = 200_000_000  # 5,000 messages at 0.04 EUR need more than the usual funds
MESSAGES = 5000
WINDOW = StandInSmsc().connection_settings()["window"]  # the SMPP window of the connection to the stand-in


def _only_worker_processes_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process's own worker shares the database but not the worker processes' Redis database, where the
    batches' submission logs and beats live (in production every process shares one Redis). Its sweeper would
    take living workers' batches for abandoned ones, read no log and fail whole batches, or hand the campaign
    to its own worker; so here only the worker processes sweep."""

    async def no_sweep(_portal: object) -> dict[str, int]:
        return {}

    monkeypatch.setattr(core.dispatch.jobs, "sweep", no_sweep)


async def _mute_with_long_timeout(sms: SmsWorld) -> None:
    """The SMSC takes submits and answers none: killed workers are still waiting for answers."""
    connection = await VendorConnection.select().first()
    slow = {**json_value(connection["settings"]), "response_timeout": 120}
    await VendorConnection.update({VendorConnection.settings: slow}).where(VendorConnection.id == connection["id"])
    sms.smsc.mute = True
    await fund(sms.tenant.end_user_id, EXTRA)


def _submitting(campaign_id: int, sms: SmsWorld):
    async def check() -> bool:
        busy = await CampaignBatch.exists().where(
            (CampaignBatch.campaign == campaign_id) & (CampaignBatch.state == "submitting")
        )
        return busy and sum(sms.smsc.submitted.values()) > 0

    return check


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def _check_outcome(campaign_id: int, done: dict, sms: SmsWorld, log: Path, *, log_lost: bool = False) -> None:
    assert done["status"] == "completed", _tail(log)
    assert max(sms.smsc.submitted.values()) == 1  # nothing was submitted twice
    unknown = await Edr.count().where((Edr.campaign == campaign_id) & (Edr.error == UNKNOWN_OUTCOME))
    # The SMSC received every unknown one that reached it, and each recorded as sent.
    reached_unanswered = sum(sms.smsc.submitted.values()) - done["sent"]
    # Unknown: what reached the SMSC unanswered, plus at most one announced burst per send job that the kill
    # stopped before it was written — not the whole batches that were submitting (up to 4 x 500 before).
    if log_lost:
        assert 0 < reached_unanswered <= unknown and unknown % BATCH == 0  # whole batches, as before the logs
    else:
        assert 0 < reached_unanswered <= unknown <= reached_unanswered + SENDERS_PER_CAMPAIGN * WINDOW
    assert done["sent"] == MESSAGES - unknown and done["failed"] == unknown == MESSAGES - done["delivered"]
    charged = done["sent"] * ES_VODAFONE  # the unknown ones were refunded
    balance = (await Partner.select(Partner.balance).where(Partner.id == sms.tenant.end_user_id).first())["balance"]
    assert balance == FUNDS + EXTRA - charged
    ledger = await LedgerEntry.select().where(LedgerEntry.partner == sms.tenant.end_user_id)
    assert sum(e["amount"] for e in ledger) == balance
    assert (await Campaign.select(Campaign.cost).where(Campaign.id == campaign_id).first())["cost"] == charged


@pytest.mark.parametrize("log_lost", [False, True], ids=["log kept", "log lost"])
async def test_a_killed_worker_never_causes_a_second_submit(
    app, sms: SmsWorld, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_lost: bool
):
    """With the batches' submission logs lost (Redis lost its data), nobody can tell what left: the whole batches
    that were submitting end unknown, and still nothing is sent twice."""
    _only_worker_processes_sweep(monkeypatch)
    await _mute_with_long_timeout(sms)
    numbers = [f"34607{n:06d}" for n in range(MESSAGES)]
    log = tmp_path / "workers.log"
    async with contextlib.AsyncExitStack() as stack:
        portal = await stack.enter_async_context(workers_portal(settings))
        first = start_worker(portal.settings.redis_url, log)
        stack.callback(kill, first)
        created = await create_campaign(
            portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers)
        )
        await eventually(_submitting(created.id, sms))
        kill(first)
        if log_lost:
            logs = [key async for key in portal.redis.scan_iter(match=submission.PREFIX + "*")]
            assert logs  # the killed worker was submitting
            await portal.redis.delete(*logs)
        sms.smsc.mute = False
        second = start_worker(portal.settings.redis_url, log)
        stack.callback(stop, second)
        done = await wait_for_status(created.id, {"completed", "failed", "paused"}, limit_s=90)
    await _check_outcome(created.id, done, sms, log, log_lost=log_lost)


async def test_every_worker_killed_and_restarted_finishes_the_campaign(
    app, sms: SmsWorld, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Both workers die; their send jobs stay "active" in Redis. Restarted workers must end those jobs and go on:
    before send jobs had a heartbeat, every later enqueue under their keys was dropped and the campaign stalled."""

    _only_worker_processes_sweep(monkeypatch)
    await _mute_with_long_timeout(sms)
    numbers = [f"34607{n:06d}" for n in range(MESSAGES)]
    log = tmp_path / "workers.log"
    async with contextlib.AsyncExitStack() as stack:
        portal = await stack.enter_async_context(workers_portal(settings))
        url = portal.settings.redis_url
        first = [start_worker(url, log), start_worker(url, log)]
        stack.callback(kill, *first)
        created = await create_campaign(
            portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers)
        )
        await eventually(_submitting(created.id, sms))
        kill(*first)
        stale = [job for job in await portal.send_queue.jobs(f"send:{created.id}:{s}" for s in range(4)) if job]
        assert any(job.status == "active" for job in stale)  # what used to swallow every later enqueue
        sms.smsc.mute = False
        second = [start_worker(url, log), start_worker(url, log)]
        stack.callback(stop, *second)
        done = await wait_for_status(created.id, {"completed", "failed", "paused"}, limit_s=120)
    await _check_outcome(created.id, done, sms, log)


async def test_a_send_job_ended_while_its_worker_lives_does_not_stall_the_campaign(
    app, sms: SmsWorld, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """saq ends jobs it takes for dead (its sweep, or ours when a beat lapses under load) while their worker
    lives on. The worker's own beat then kept the batches it was submitting claimed for good and the campaign
    stalled; now the job ends its batch as the sweeper ends a dead worker's, and the campaign completes."""

    _only_worker_processes_sweep(monkeypatch)
    await _mute_with_long_timeout(sms)
    sms.smsc.mute, sms.smsc.hold_answers = False, True  # a slow SMSC: the submits are answered, but late
    numbers = [f"34607{n:06d}" for n in range(MESSAGES)]
    log = tmp_path / "workers.log"
    async with contextlib.AsyncExitStack() as stack:
        portal = await stack.enter_async_context(workers_portal(settings))
        worker = start_worker(portal.settings.redis_url, log)
        stack.callback(stop, worker)
        created = await create_campaign(
            portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers)
        )
        await eventually(_submitting(created.id, sms))
        running = [job for job in await portal.send_queue.jobs(send_keys(created.id)) if job]
        ended = next(job for job in running if job.status == Status.ACTIVE)
        await portal.send_queue.abort(ended, error="taken for dead")
        seen: list[Status | None] = []

        async def aborted() -> bool:
            job = await portal.send_queue.job(ended.key)
            seen.append(job.status if job else None)
            if job is not None and job.status == Status.ACTIVE:
                # saq's job update (the job's own touch) reads the status, then writes the whole job: an abort
                # landing between the two is overwritten. saq's sweep aborts again on its next round; so do we.
                await portal.send_queue.abort(job, error="taken for dead")
            return job is not None and job.status == Status.ABORTED

        try:
            await eventually(aborted)
        except AssertionError:
            raise AssertionError(f"never aborted; statuses {seen[-5:]}; {log.read_text()[-3000:]}") from None
        sms.smsc.release_answers()
        done = await wait_for_status(created.id, {"completed", "failed", "paused"}, limit_s=90)
        assert worker.poll() is None  # the same worker went on: nothing was restarted
    await _check_outcome(created.id, done, sms, log)


async def test_a_prepare_job_lost_before_any_worker_started_it_is_replaced(app, sms: SmsWorld):
    """A job taken from the queue by a worker that died (or a Redis client cut off) before marking it active stays
    "queued" in no list: no worker runs it, and while it exists every enqueue of its key was dropped, so the
    campaign never started. Once it has waited a heartbeat, the next enqueue (start, resume, the sweeper)
    removes it and the campaign goes out."""
    portal = app.state.portal
    later = datetime.now(UTC) + timedelta(days=1)
    numbers = [f"34607{n:06d}" for n in range(50)]
    created = await create_campaign(
        portal,
        sms.actor,
        CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=numbers, send_at=later),
    )
    # The lost job: queued a minute ago, due, and in neither the queued nor the active list.
    job = await portal.queue.enqueue(
        "prepare_campaign", campaign_id=created.id, key=prepare_key(created.id), scheduled=time.time() + 3600
    )
    assert job is not None
    job.scheduled, job.queued = 0, job.queued - 60_000
    await portal.redis.set(job.id, portal.queue.serialize(job))
    await portal.redis.zadd(portal.queue.namespace("incomplete"), {job.id: 0})

    await Campaign.update({Campaign.scheduled_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Campaign.id == created.id
    )
    assert await start_due(portal) == 1
    done = await wait_for_status(created.id, {"completed", "failed", "paused"})
    assert (done["status"], done["sent"]) == ("completed", 50)
    assert max(sms.smsc.submitted.values()) == 1
