"""The sweeper (DSP-3, DSP-5, DSP-6): abandoned batches, expired messages, campaigns left to complete.

It runs every ten seconds on one worker and whenever a worker starts. A batch whose worker stopped beating was
abandoned: when billed but not yet submitting, its money goes back and it is ready again; when submitting,
the messages the channel had announced as leaving and whose outcome was not recorded may or may not have
reached the vendor, so they end FAILED "submission outcome unknown", are refunded, and are never sent again;
the rest never left and go back to a ready batch (core.dispatch.submission).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from core.campaigns.tables import Campaign
from core.db import is_sqlite, write_transaction
from core.dispatch.campaign_state import finish_if_done
from core.dispatch.cascade import hand_over
from core.dispatch.liveness import TTL_S, WORKER_ID, alive
from core.dispatch.queueing import enqueue_prepare, enqueue_senders
from core.dispatch.receipts import Key, Outcome, after_changes, apply_early_reports, apply_outcomes, key_lookups_only
from core.dispatch.sending import abandon_batch, ready_batches
from core.dispatch.tables import CampaignBatch, EarlyReport, Edr
from core.portal import Portal
from core.rawsql import RawSql

EARLY_REPORT_HOURS = 80  # longer than the longest validity (72 h): a report this old matches nothing any more
EXPIRE_CHUNK = 1000
EXPIRED = "Expired: no delivery report within the validity period"
WINDOW_CLOSED = "Waiting for the recipients' send window (quiet hours)"
# While a pass hands recipients on, more are likely due (a cascade step's failures keep coming): the sweep hands
# over again after a pause that gathers the next set, until a pass finds none or the sweep has run for most of its
# 10 s period. Without it, a next step was fed once per 10 s and sat idle in between; without the pause, it would be
# fed a few recipients at a time, in batches too small to send fast.
HAND_OVER_PAUSE_S = 1.0
HAND_OVER_FOR_S = 8.0


async def recover_abandoned(portal: Portal) -> int:
    """Release or fail the batches of workers that stopped; the campaigns touched."""
    cutoff = datetime.now(UTC) - timedelta(seconds=TTL_S)
    claimed = await CampaignBatch.select(CampaignBatch.id, CampaignBatch.campaign, CampaignBatch.worker).where(
        CampaignBatch.state.is_in(["billed", "submitting"]) & (CampaignBatch.claimed_at < cutoff)
    )
    workers = {r["worker"] for r in claimed} - {WORKER_ID}
    living = await alive(portal.redis, workers) | {WORKER_ID}
    campaigns: set[int] = set()
    for batch in claimed:
        if batch["worker"] in living:
            continue
        await abandon_batch(portal.redis, batch["id"], batch["campaign"], batch["worker"])
        campaigns.add(batch["campaign"])
    return len(campaigns)


async def expire_messages(portal: Portal) -> int:
    """End SENT messages whose validity passed without a report as UNDELIVERED (expired); how many."""
    now = datetime.now(UTC)
    running = await Campaign.select(Campaign.id, Campaign.validity_hours, Campaign.started_at).where(
        Campaign.status.is_in(["in_progress", "paused"])
    )
    expired = 0
    for campaign in running:
        limit = now - timedelta(hours=campaign["validity_hours"])
        if campaign["started_at"] is None or campaign["started_at"] > limit:
            continue  # nothing it sent can be older than its validity yet: spare reading all its EDRs
        ids = [
            r["id"]
            for r in await Edr.select(Edr.id).where(
                (Edr.campaign == campaign["id"]) & (Edr.status == "SENT") & (Edr.sent_at < limit)
            )
        ]
        expired += await expire_edrs(portal, ids, now)
    return expired


async def expire_edrs(portal: Portal, ids: list[int], now: datetime) -> int:
    """End the SENT messages ``ids`` as UNDELIVERED (expired), EXPIRE_CHUNK per transaction; how many changed.

    Through ``apply_outcomes``, so counters and By-Delivered money move as for any undelivered message.
    """
    expired = 0
    for start in range(0, len(ids), EXPIRE_CHUNK):
        chunk = ids[start : start + EXPIRE_CHUNK]
        async with write_transaction() as tx:
            sql = RawSql(tx.connection, sqlite=is_sqlite())
            await key_lookups_only(sql)
            changed = await apply_outcomes(sql, {i: Outcome("UNDELIVERED", "EXPIRED", EXPIRED, now) for i in chunk})
        await after_changes(portal, changed)
        expired += len(changed)
    return expired


async def retry_early_reports(portal: Portal) -> int:
    """Apply early reports whose message id is stored by now; forget those older than any validity.

    A report and its submit result may commit at the same moment: the result's own look for early reports ran
    before the report was stored. This pass catches those.
    """
    rows = await EarlyReport.raw(
        "SELECT channel, connection, vendor_message_id FROM early_report AS e WHERE"
        " EXISTS (SELECT 1 FROM edr WHERE edr.vendor_message_id = e.vendor_message_id"
        " AND (e.connection IS NULL OR edr.connection = e.connection))"
        " OR EXISTS (SELECT 1 FROM edr_part AS p WHERE p.vendor_message_id = e.vendor_message_id"
        " AND (e.connection IS NULL OR p.connection = e.connection)) LIMIT 20000"
    )
    by_channel: dict[str, list[Key]] = {}
    for r in rows:
        by_channel.setdefault(r["channel"], []).append((r["connection"], r["vendor_message_id"]))
    for channel, keys in by_channel.items():
        await apply_early_reports(portal, channel, keys)
    await EarlyReport.delete().where(EarlyReport.received_at < datetime.now(UTC) - timedelta(hours=EARLY_REPORT_HOURS))
    return len(rows)


async def sweep(portal: Portal) -> dict[str, int]:
    """One pass of everything above, then each running campaign is completed or handed to (live) jobs again; then
    recipients are handed on again while there are more to hand on."""
    started = time.monotonic()
    recovered = await recover_abandoned(portal)
    await retry_early_reports(portal)
    expired = await expire_messages(portal)
    handed = await hand_over(portal)
    columns = (Campaign.expanded, Campaign.window_from, Campaign.window_until, Campaign.timezone, Campaign.parent_id)
    running = await Campaign.select(Campaign.id, *columns).where(Campaign.status == "in_progress")
    completed = 0
    for campaign in running:
        if await finish_if_done(portal, campaign["id"]):
            completed += 1
            continue
        # Enqueues are dropped while a live job holds the key; a dead worker's job is ended first (queueing).
        if not campaign["expanded"] and campaign["parent_id"] is None:  # a later cascade step is handed its own
            await enqueue_prepare(portal, campaign["id"])
        ready = await ready_batches(campaign)
        if ready == "open":
            await enqueue_senders(portal, campaign["id"])
        elif ready == "waiting":  # quiet hours: said on the campaign until its next results are recorded
            await Campaign.update({Campaign.status_reason: WINDOW_CLOSED}).where(
                (Campaign.id == campaign["id"])
                & (Campaign.status == "in_progress")
                & (Campaign.status_reason != WINDOW_CLOSED)
            )
    moved = handed
    while moved and time.monotonic() - started < HAND_OVER_FOR_S:
        await asyncio.sleep(HAND_OVER_PAUSE_S)
        moved = await hand_over(portal)
        handed += moved
    return {"recovered": recovered, "expired": expired, "handed_on": handed, "completed": completed}
