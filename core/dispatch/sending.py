"""Sending (DSP-2…4): workers claim ready batches, pay for them, submit them, and record what the vendor said.

A batch moves ready → billed → submitting → done. Claim and payment are one transaction (a conditional
update, so two workers never claim the same batch, and a conditional balance update, so money never goes
below the credit limit); "submitting" is committed before the first message leaves, so after a crash the
sweeper knows which outcomes are unknown and never sends them again. A batch whose sending stops midway — its
worker died, or its job was ended while the worker lives on — is ended the one way (``abandon_batch``).
"""

# ruff: noqa: S608 — statements interpolate only placeholders ($n) and fixed SQL words, never values.

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from asyncpg.exceptions import DeadlockDetectedError
from redis.asyncio import Redis

from core.campaigns.tables import Campaign
from core.db import is_sqlite, json_value, write_transaction
from core.dispatch import money, pacing, packs, quiet_hours, submission
from core.dispatch.campaign_state import finish_if_done, pause_for_balance
from core.dispatch.channels import ready_provider
from core.dispatch.liveness import WORKER_ID
from core.dispatch.receipts import Key, apply_early_reports, key_lookups_only
from core.dispatch.tables import CampaignBatch
from core.errors import TemporaryProviderError
from core.metrics import BATCH_SECONDS, count_messages
from core.portal import Portal
from core.providers import ChannelProvider, OutboundMessage, SendResult
from core.rawsql import RawSql

log = logging.getLogger(__name__)

IDLE_WAIT_S = 0.05
IDLE_LIMIT_S = 5.0
RETRY_PAUSE_S = 1.0
DEADLOCK_TRIES = 5
UNKNOWN_OUTCOME = "Submission outcome unknown: the connection failed before the vendor answered"
SENT_COLUMNS = (
    ("status", "varchar"),
    ("vendor_message_id", "varchar"),
    ("connection", "integer"),
    ("sent_at", "timestamptz"),
)
# Fair sharing: a send job that has held its slot this long gives it up at the next batch boundary when other jobs
# wait for one, and goes to the back of the queue (jobs.requeue_yielded); alone, it keeps sending.
QUANTUM_S = 1.0
YIELDED = "yielded its slot"


def _sql(tx: Any) -> RawSql:
    return RawSql(tx.connection, sqlite=is_sqlite())


async def _claim(campaign_id: int) -> tuple[int, Mapping[str, Any]] | None:
    """Claim and pay for the campaign's next ready batch; None when there is none ready.

    Raises:
        money.InsufficientBalance: the batch cannot be paid; nothing was claimed.
    """
    lock = "" if is_sqlite() else " FOR UPDATE SKIP LOCKED"
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = _sql(tx)
        await key_lookups_only(sql)
        campaign = await sql.rows(
            "SELECT status, partner, channel, ledger_entry_id, sender_id, text, flash, content, validity_hours,"
            " billing_mode, window_from, window_until, timezone, fallback_ttl FROM campaign WHERE id = $1",
            campaign_id,
        )
        if not campaign or campaign[0]["status"] != "in_progress":
            return None
        zones = None
        if campaign[0]["window_from"] is not None:
            ready = await sql.column(
                "SELECT DISTINCT zone FROM campaign_batch WHERE campaign = $1 AND state = 'ready'", campaign_id
            )
            zones = open_zones(ready, campaign[0], now)
        if zones == []:
            return None  # every ready batch waits for its recipients' window
        in_zones = ""
        if zones is not None:
            in_zones = " AND zone IN (" + ", ".join(f"${n}" for n in range(4, len(zones) + 4)) + ")"
        ids = await sql.column(
            "UPDATE campaign_batch SET state = 'billed', worker = $2, claimed_at = $3 WHERE id ="
            f" (SELECT id FROM campaign_batch WHERE campaign = $1 AND state = 'ready'{in_zones}"
            f" ORDER BY id LIMIT 1{lock}) AND state = 'ready' RETURNING id",
            campaign_id,
            WORKER_ID,
            now,
            *(zones or []),
        )
        if not ids:
            return None
        batch = ids[0]
        # Billed and read in one statement: what is sent is exactly what was billed, without reading it again.
        billed = await sql.rows(
            "UPDATE edr SET status = 'BILLED' WHERE campaign = $1 AND batch = $2 AND status = 'PREPARED'"
            " RETURNING id, price, rate, parts, country_iso, mccmnc, sender, destination, text",
            campaign_id,
            batch,
        )
        # The sender's packs pay first (BIL-4); what neither a pack nor the plan can pay for fails here.
        prepared, unpaid = await packs.take_units(sql, campaign[0]["partner"], campaign[0]["channel"], billed, now)
        amount = sum(r["price"] for r in prepared)
        # Every level above pays its own price in the same transaction (one sum per level, one update per partner,
        # in partner id order). Raises when a balance cannot pay; the transaction then rolls the claim back whole.
        levels = await money.level_amounts_of(sql, [r["id"] for r in prepared], sign=-1)
        await money.move_all(sql, [(campaign[0]["partner"], campaign[0]["ledger_entry_id"], -int(amount)), *levels])
        await sql.execute("UPDATE campaign_batch SET amount = $1 WHERE id = $2", int(amount), batch)
        if unpaid:  # the campaign's counters last, as in every batch transaction
            await sql.execute("UPDATE campaign SET failed = failed + $1 WHERE id = $2", len(unpaid), campaign_id)
    edrs = sorted((r["id"], r["sender"], r["destination"], r["text"]) for r in prepared)
    return batch, {**campaign[0], "messages": len(prepared), "edrs": edrs}


def open_zones(zones: Sequence[str], campaign: Mapping[str, Any], now: datetime) -> list[str] | None:
    """Those of ``zones`` (of ready batches) whose send window is open at ``now``; None: the campaign has no quiet
    hours. A batch of numbers that say nothing of their place ('') follows the campaign's own time zone."""
    start, end = campaign["window_from"], campaign["window_until"]
    if start is None or end is None:
        return None
    return [z for z in zones if quiet_hours.is_open(start, end, z or campaign["timezone"], now)]


async def ready_batches(campaign: Mapping[str, Any]) -> str:
    """'open' when the campaign has a ready batch that may go now, 'waiting' when all its ready batches wait for
    their recipients' send window (quiet hours), '' when it has none ready.

    ``campaign``: its row with id, window_from, window_until and timezone.
    """
    ready = (
        await CampaignBatch.select(CampaignBatch.zone)
        .where((CampaignBatch.campaign == campaign["id"]) & (CampaignBatch.state == "ready"))
        .distinct()
    )
    if not ready:
        return ""
    return "waiting" if open_zones([r["zone"] for r in ready], campaign, datetime.now(UTC)) == [] else "open"


async def _begin_submitting(batch: int) -> bool:
    async with write_transaction() as tx:
        changed = await _sql(tx).execute(
            "UPDATE campaign_batch SET state = 'submitting' WHERE id = $1 AND state = 'billed' AND worker = $2",
            batch,
            WORKER_ID,
        )
    return changed == 1


def _messages(campaign: Mapping[str, Any]) -> list[OutboundMessage]:
    """The claimed batch's messages (``campaign["edrs"]``: id, sender, destination, own text), in id order."""
    text, flash = campaign["text"], bool(campaign["flash"])
    # One dict for the whole batch: the channel's extra fields (an image, a button) and the validity as a TTL. A
    # cascade's step asks the vendor to stop trying when the next channel takes over (CMP-7).
    ttl = campaign["validity_hours"] * 3600
    if campaign["fallback_ttl"]:
        ttl = min(ttl, campaign["fallback_ttl"]) if ttl else campaign["fallback_ttl"]
    extra = {**(json_value(campaign["content"]) or {}), "ttl": str(ttl)}
    return [
        OutboundMessage(edr_id=edr_id, sender=sender, destination=to, text=own or text, flash=flash, extra=extra)
        for edr_id, sender, to, own in campaign["edrs"]
    ]


async def release_batch(sql: RawSql, campaign: Mapping[str, Any], campaign_id: int, batch: int) -> None:
    """Give a batch nothing of which was sent back: money refunded, its EDRs and itself ready for any worker."""
    unpaid = await sql.column(
        "SELECT COALESCE(SUM(price), 0) FROM edr WHERE campaign = $1 AND batch = $2 AND status = 'BILLED'",
        campaign_id,
        batch,
    )
    levels = await money.level_amounts(sql, "campaign = $1 AND batch = $2 AND status = 'BILLED'", campaign_id, batch)
    from_packs = await sql.column(
        "SELECT id FROM edr WHERE campaign = $1 AND batch = $2 AND status = 'BILLED' AND pack IS NOT NULL",
        campaign_id,
        batch,
    )
    # A message a pack paid for goes back to its plan price and mode; the next claim asks the packs again.
    await sql.execute(
        "UPDATE edr SET status = 'PREPARED', price = CASE WHEN pack IS NULL THEN price ELSE COALESCE(rate, 0) * parts"
        " END, charge_on_delivery = CASE WHEN pack IS NULL THEN charge_on_delivery ELSE"
        " (SELECT billing_mode = 'delivered' FROM campaign WHERE id = $1) END"
        " WHERE campaign = $1 AND batch = $2 AND status = 'BILLED'",
        campaign_id,
        batch,
    )
    # Packs before balances, the claim's lock order (packs.take_units, then money.move_all).
    await packs.give_back(sql, from_packs)
    await money.move_all(sql, [(campaign["partner"], campaign["ledger_entry_id"], int(unpaid[0])), *levels])
    await sql.execute("UPDATE campaign_batch SET state = 'ready', worker = '', amount = 0 WHERE id = $1", batch)


async def abandon_batch(redis: Redis, batch: int, campaign_id: int, worker: str) -> None:
    """End a batch ``worker`` claimed and stopped sending midway: when billed, it is released whole; when
    submitting, the messages that may have left without a recorded outcome end FAILED (unknown) and unpaid, and
    the rest go back to a ready batch. Nothing is done when the batch moved on meanwhile."""
    # Read before the transaction: whoever sent from the batch has stopped adding to its log.
    left = await submission.may_have_left(redis, batch)
    for attempt in range(DEADLOCK_TRIES):
        try:
            await _abandon(batch, campaign_id, worker, left)
            break
        except DeadlockDetectedError:
            # PostgreSQL chose this transaction to break a lock cycle with a concurrent one: nothing of it was
            # written, and a batch left claimed by a living worker would stall its campaign, so try again.
            if attempt == DEADLOCK_TRIES - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    await submission.close_log(redis, batch)


async def _abandon(batch: int, campaign_id: int, worker: str, left: set[int] | None) -> None:
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = _sql(tx)
        state = await sql.column("SELECT state FROM campaign_batch WHERE id = $1 AND worker = $2", batch, worker)
        if not state or state[0] not in ("billed", "submitting"):
            return
        campaign = (await sql.rows("SELECT partner, ledger_entry_id FROM campaign WHERE id = $1", campaign_id))[0]
        if state[0] == "billed":
            await release_batch(sql, campaign, campaign_id, batch)
            return
        unpaid = await sql.rows(
            "SELECT id, price FROM edr WHERE campaign = $1 AND batch = $2 AND status = 'BILLED'", campaign_id, batch
        )
        unknown = [r for r in unpaid if left is None or r["id"] in left]
        # Locks in the order every batch transaction takes them (record_results, receipts): the partner's balance
        # first, the campaign's counters last; the other order deadlocked against a batch recording its results.
        levels = await money.level_amounts_of(sql, [r["id"] for r in unknown])
        await packs.give_back(sql, [r["id"] for r in unknown])
        await money.move_all(
            sql, [(campaign["partner"], campaign["ledger_entry_id"], sum(r["price"] for r in unknown)), *levels]
        )
        await sql.executemany(
            "UPDATE edr SET status = 'FAILED', error = $2, done_at = $3 WHERE id = $1 AND status = 'BILLED'",
            [(r["id"], UNKNOWN_OUTCOME, now) for r in unknown],
        )
        if len(unknown) < len(unpaid):
            # What never left is paid back and ready again for any worker to send.
            await release_batch(sql, campaign, campaign_id, batch)
        else:
            await sql.execute("UPDATE campaign_batch SET state = 'done' WHERE id = $1", batch)
        if unknown:
            await sql.execute("UPDATE campaign SET failed = failed + $1 WHERE id = $2", len(unknown), campaign_id)


async def _put_back(campaign_id: int, batch: int, reason: str = "") -> None:
    """Release the batch and say on the campaign why it waits (cleared when a batch goes out again), if a reason
    is given."""
    async with write_transaction() as tx:
        sql = _sql(tx)
        campaign = (await sql.rows("SELECT partner, ledger_entry_id FROM campaign WHERE id = $1", campaign_id))[0]
        await release_batch(sql, campaign, campaign_id, batch)
        if not reason:
            return
        await sql.execute(
            "UPDATE campaign SET status_reason = $1 WHERE id = $2 AND status = 'in_progress'",
            f"Waiting for the vendor: {reason}"[:300],
            campaign_id,
        )


async def record_results(
    campaign_id: int, batch: int, results: Sequence[SendResult], *, final: bool = True
) -> list[Key]:
    """Store outcomes of a batch's messages, refund what was not accepted; the accepted messages' and parts' keys.

    Called with what the vendor answered so far while the batch is submitting, and ``final``ly with every result:
    only messages still BILLED are recorded, so each outcome counts once however often it is handed over.
    """
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = _sql(tx)
        await key_lookups_only(sql)
        campaign = (
            await sql.rows(
                "SELECT partner, ledger_entry_id, billing_mode, channel FROM campaign WHERE id = $1", campaign_id
            )
        )[0]
        prices = {
            r["id"]: r["price"]
            for r in await sql.rows(
                "SELECT id, price FROM edr WHERE campaign = $1 AND batch = $2 AND status = 'BILLED'", campaign_id, batch
            )
        }
        accepted, refused = await store_outcomes(sql, prices, results, now)
        taken = sum(prices[r.edr_id] for r in accepted)
        refund = sum(prices[r.edr_id] for r in refused)
        levels = await money.level_amounts_of(sql, [r.edr_id for r in refused]) if refused else []
        await packs.give_back(sql, [r.edr_id for r in refused])  # packs before balances, as in the claim
        await money.move_all(sql, [(campaign["partner"], campaign["ledger_entry_id"], refund), *levels])
        charged, reserved = (0, taken) if campaign["billing_mode"] == "delivered" else (taken, 0)
        await sql.execute(
            "UPDATE campaign SET sent = sent + $1, failed = failed + $2, cost = cost + $3, reserved = reserved + $4,"
            " status_reason = CASE WHEN status = 'in_progress' THEN '' ELSE status_reason END WHERE id = $5",
            len(accepted),
            len(refused),
            charged,
            reserved,
            campaign_id,
        )
        if final:
            await sql.execute("UPDATE campaign_batch SET state = 'done' WHERE id = $1", batch)
    # After the commit: a rolled-back batch must not count.
    count_messages(campaign["channel"], ["SENT"] * len(accepted) + ["FAILED"] * len(refused))
    # Every part's key: a receipt for any part may have overtaken the result.
    return [(r.connection, vendor_id) for r in accepted for vendor_id in r.part_ids or (r.vendor_message_id,)]


async def store_outcomes(
    sql: RawSql, prices: Mapping[int, int], results: Sequence[SendResult], now: datetime
) -> tuple[list[SendResult], list[SendResult]]:
    """Write the vendor's answers for the BILLED EDRs in ``prices`` (id → price); the accepted and refused among them.

    Shared by campaign batches and public API requests; the caller moves the money in the same transaction.
    """
    accepted = [r for r in results if r.accepted and r.edr_id in prices]
    refused = [r for r in results if not r.accepted and r.edr_id in prices]
    await sql.update_rows(
        "edr",
        ("id", "bigint"),
        SENT_COLUMNS,
        [(r.edr_id, "SENT", r.vendor_message_id, r.connection, now) for r in accepted],
        where="status = 'BILLED'",
    )
    await sql.update_rows(
        "edr",
        ("id", "bigint"),
        (("status", "varchar"), ("error", "varchar"), ("done_at", "timestamptz")),
        [
            (r.edr_id, "FAILED", (UNKNOWN_OUTCOME if r.unknown else r.error or "Refused by the vendor")[:200], now)
            for r in refused
        ],
        where="status = 'BILLED'",
    )
    parts = [(r.edr_id, r.connection, part) for r in accepted for part in r.part_ids if len(r.part_ids) > 1]
    await sql.bulk("edr_part", ("edr", "connection", "vendor_message_id"), parts)
    return accepted, refused


async def send_campaign(portal: Portal, campaign_id: int, *, quantum_s: float | None = None) -> str:
    """Claim and send batches of one campaign until none is left, it stops being in progress, or money runs out.

    ``quantum_s``: after this long, give the slot up (answer YIELDED…) between two batches if other send jobs wait
    on the queue, so that many big campaigns cannot hold every slot while small ones wait (DSP-5).
    """
    sent_batches = 0
    idle = 0.0
    began = time.monotonic()
    channel, rate_limit = await _channel_of(campaign_id)
    while True:
        # Bind (or rebind after a change) before claiming: a slow bind must not hold a paid batch.
        provider = await ready_provider(portal, channel)
        try:
            claimed = await _claim(campaign_id)
        except money.InsufficientBalance as short:
            if await pause_for_balance(portal, campaign_id, short.needed, short.partner_id):
                return f"paused after {sent_batches} batches: insufficient balance"
            continue  # topped up meanwhile (and resumed, if it had been paused): claim again
        if claimed is None:
            state = await _campaign_state(campaign_id)
            if state is None or state["status"] != "in_progress" or state["expanded"]:
                break
            if idle >= IDLE_LIMIT_S:
                break  # the expansion job enqueues senders again after its next chunk
            await asyncio.sleep(IDLE_WAIT_S)
            idle += IDLE_WAIT_S
            continue
        idle = 0.0
        batch, campaign = claimed
        if rate_limit and await pacing.wait_turn(portal.redis, campaign_id, campaign["messages"], rate_limit) > 0:
            state = await _campaign_state(campaign_id)
            if state is None or state["status"] != "in_progress":
                # Paused or canceled while the batch waited for its slot: it goes back unsent and paid back.
                await _put_back(campaign_id, batch)
                break
        try:
            sent = await _send_claimed(portal, provider, channel, campaign_id, batch, campaign)
        except TemporaryProviderError as exc:
            await asyncio.sleep(RETRY_PAUSE_S)
            return f"{sent_batches} batches sent; paused sending: {exc.detail}"
        except BaseException:
            # Sending stopped midway while this process lives on: the job was ended (saq's sweep or
            # ``queueing.revive`` took it for a dead one, or the worker shuts down) or the channel failed. The
            # process's beat would keep the batch claimed for good and stall the campaign, so it is ended here
            # as the sweeper ends a dead worker's.
            await asyncio.shield(abandon_batch(portal.redis, batch, campaign_id, WORKER_ID))
            raise
        sent_batches += sent
        if quantum_s is not None and time.monotonic() - began >= quantum_s:
            if await portal.send_queue.count("queued"):
                return f"{YIELDED} after {sent_batches} batches"
            began = time.monotonic()
    await finish_if_done(portal, campaign_id)
    return f"{sent_batches} batches sent"


async def _send_claimed(
    portal: Portal, provider: ChannelProvider, channel: str, campaign_id: int, batch: int, campaign: Mapping[str, Any]
) -> int:
    """Submit one claimed batch and record its results; 1 when it was sent, 0 when another took it meanwhile.

    Raises:
        TemporaryProviderError: the vendor is out of reach; the batch was put back, paid back, nothing left.
    """
    await submission.open_log(portal.redis, batch)
    if not await _begin_submitting(batch):
        return 0
    messages = _messages(campaign)
    started = time.monotonic()
    try:
        results = await _submit(portal, provider, channel, campaign_id, batch, messages)
    except TemporaryProviderError as exc:
        # Nothing left: the batch waits, paid back, for a later try (the sweeper enqueues senders again while
        # ready batches remain) instead of failing its messages.
        log.warning("campaign %s: %s; batch %s put back", campaign_id, exc.detail, batch)
        await _put_back(campaign_id, batch, exc.detail)
        await submission.close_log(portal.redis, batch)
        raise
    keys = await record_results(campaign_id, batch, results)
    BATCH_SECONDS.labels(channel=channel).observe(time.monotonic() - started)
    await submission.close_log(portal.redis, batch)
    await apply_early_reports(portal, channel, keys)
    return 1


async def _submit(
    portal: Portal,
    provider: ChannelProvider,
    channel: str,
    campaign_id: int,
    batch: int,
    messages: list[OutboundMessage],
) -> Sequence[SendResult]:
    """Hand the batch to the channel, recording what it announces and answers on the way (see submission)."""

    async def record(answered: list[SendResult]) -> None:
        await apply_early_reports(portal, channel, await record_results(campaign_id, batch, answered, final=False))

    async with submission.Progress(portal.redis, batch, record) as progress:
        if not messages:
            return []
        if not provider.capabilities.submit_progress:
            # The channel cannot say what it wrote: everything counts as gone from the first byte.
            await progress.leaving([m.edr_id for m in messages])
            return await provider.send_batch(messages)
        return await provider.send_batch(messages, progress)


async def _campaign_state(campaign_id: int) -> dict[str, Any] | None:
    return await Campaign.select(Campaign.status, Campaign.expanded).where(Campaign.id == campaign_id).first()


async def _channel_of(campaign_id: int) -> tuple[str, int | None]:
    """The campaign's channel and throughput limit (messages per second)."""
    row = await Campaign.select(Campaign.channel, Campaign.rate_limit).where(Campaign.id == campaign_id).first()
    return (row["channel"], row["rate_limit"]) if row else ("", None)
