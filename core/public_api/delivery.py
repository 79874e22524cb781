"""Sending an accepted API request (API-2): one job hands its EDRs to their channels in batches of ≤ 500.

The engine's parts are reused: ``ready_provider`` binds the channel, ``submission`` logs what may have left (so
a job killed mid-batch and retried fails only the unknown ones, refunded, and never sends them twice), and
``sending.store_outcomes`` writes the vendor's answers. Refused messages are paid back on the request's API
ledger row in the same transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from core.db import is_sqlite, json_value, write_transaction
from core.dispatch import callbacks, money, packs, submission
from core.dispatch.channels import ready_provider
from core.dispatch.queueing import revive
from core.dispatch.receipts import Key, apply_early_reports, key_lookups_only
from core.dispatch.sending import UNKNOWN_OUTCOME, store_outcomes
from core.dispatch.sweeper import expire_edrs
from core.dispatch.tables import Edr
from core.metrics import count_messages
from core.portal import Portal
from core.providers import OutboundMessage, SendResult
from core.public_api.services import enqueue_send
from core.public_api.tables import ApiRequest
from core.rawsql import RawSql

log = logging.getLogger(__name__)

BATCH = 500
STALLED_S = 60  # a request still "accepted" this long after it was has lost its job
VALIDITY_H = 48  # as a campaign's default: an API message with no report this long after it left ends undelivered


def log_name(request_id: int) -> str:
    return f"api:{request_id}"


async def _record(request: Mapping[str, Any], results: Sequence[SendResult]) -> list[Key]:
    """Store answers for the request's still-BILLED EDRs and refund the refused ones; the accepted messages' keys."""
    now = datetime.now(UTC)
    ledgers = _ledgers(request)
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        await key_lookups_only(sql)
        rows = await sql.rows(
            "SELECT id, price, channel FROM edr WHERE campaign IS NULL AND batch = $1 AND status = 'BILLED'",
            request["id"],
        )
        prices = {r["id"]: r["price"] for r in rows}
        channel_of = {r["id"]: r["channel"] for r in rows}
        accepted, refused = await store_outcomes(sql, prices, results, now)
        # SENT too (the guide lists it): the customer learns the vendor took the message before its report.
        events = [(r.edr_id, "SENT", now) for r in accepted] + [(r.edr_id, "FAILED", now) for r in refused]
        await callbacks.queue_status_callbacks(sql, events)
        refunds: dict[str, int] = defaultdict(int)
        for r in refused:
            refunds[channel_of[r.edr_id]] += prices[r.edr_id]
        levels = await money.level_amounts_of(sql, [r.edr_id for r in refused]) if refused else []
        # Packs, then balances, then ledger rows: the engine's lock order.
        from_packs = await packs.give_back(sql, [r.edr_id for r in refused])
        await money.move_all(
            sql, [(request["partner"], ledgers[channel], amount) for channel, amount in refunds.items()] + levels
        )
        await packs.count_on_ledgers(sql, from_packs)
    for r in accepted + refused:
        count_messages(channel_of[r.edr_id], ["SENT" if r.accepted else "FAILED"])
    return [(r.connection, vendor_id) for r in accepted for vendor_id in r.part_ids or (r.vendor_message_id,)]


async def ledgers_of(sql: RawSql, rows: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """The engine's lookup for API messages (``money.register_ledger_lookup``): EDR id → its API ledger row."""
    mine = [r for r in rows if r["campaign"] is None and r["batch"] is not None]
    if not mine:
        return {}
    batches = sorted({r["batch"] for r in mine})
    marks = ", ".join(f"${n}" for n in range(1, len(batches) + 1))
    found = await sql.rows(f"SELECT id, ledgers FROM api_request WHERE id IN ({marks})", *batches)  # noqa: S608
    ledgers = {r["id"]: _ledgers(r) for r in found}
    return {r["id"]: ledgers[r["batch"]][r["channel"]] for r in mine if r["channel"] in ledgers.get(r["batch"], {})}


def _ledgers(request: Mapping[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in (json_value(request["ledgers"]) or {}).items()}


async def _fail_unknown(portal: Portal, request: Mapping[str, Any]) -> int:
    """After a killed attempt: what may have reached the vendor without a recorded answer fails, refunded."""
    left = await submission.may_have_left(portal.redis, log_name(request["id"]))
    if not left:
        return 0
    results = [SendResult(edr_id=i, accepted=False, error=UNKNOWN_OUTCOME, unknown=True) for i in sorted(left)]
    await _record(request, results)
    await submission.close_log(portal.redis, log_name(request["id"]))
    return len(results)


async def send_request(portal: Portal, request_id: int) -> str:
    """Hand every BILLED EDR of the request to its channel; idempotent, so a retried job sends nothing twice."""
    request = await ApiRequest.select().where(ApiRequest.id == request_id).first()
    if request is None or request["state"] == "done":
        return "nothing to send"
    unknown = await _fail_unknown(portal, request)
    sent = 0
    after = 0
    while True:
        rows = (
            await Edr.select(Edr.id, Edr.channel, Edr.sender, Edr.destination, Edr.text)
            .where(Edr.campaign.is_null() & (Edr.batch == request_id) & (Edr.status == "BILLED") & (Edr.id > after))
            .order_by(Edr.id)
            .limit(BATCH)
        )
        if not rows:
            break
        after = rows[-1]["id"]
        by_channel: dict[str, list[OutboundMessage]] = defaultdict(list)
        content = {str(k): str(v) for k, v in (json_value(request["content"]) or {}).items()}
        for r in rows:
            by_channel[r["channel"]].append(
                OutboundMessage(
                    edr_id=r["id"],
                    sender=r["sender"],
                    destination=r["destination"],
                    text=r["text"] or "",
                    flash=bool(request["flash"]),
                    extra=content,
                )
            )
        for channel, messages in by_channel.items():
            sent += await _submit(portal, request, channel, messages)
    await ApiRequest.update({ApiRequest.state: "done"}).where(ApiRequest.id == request_id)
    return f"{sent} messages submitted" + (f", {unknown} with an unknown outcome" if unknown else "")


async def send_job(portal: Portal, job: str) -> str:
    """Send every api_request row of one HTTP request (they share the job's key)."""
    rows = await ApiRequest.select(ApiRequest.id).where(ApiRequest.job == job).order_by(ApiRequest.id)
    return "; ".join([await send_request(portal, row["id"]) for row in rows]) or "nothing to send"


async def resend_stalled(portal: Portal) -> int:
    """Enqueue the send job again for requests still accepted STALLED_S after they were; how many jobs.

    Their EDRs are written and paid, so they must go out even when the enqueue after the commit was lost or the
    job's worker died. saq drops the enqueue while a job of that key is still queued or running, so a request
    whose job is merely slow is never sent twice; a job whose worker stopped beating is ended first (``revive``).
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=STALLED_S)
    rows = await ApiRequest.select(ApiRequest.job).where(
        (ApiRequest.state == "accepted") & (ApiRequest.created_at < cutoff)
    )
    jobs = sorted({r["job"] for r in rows})
    await revive(portal.send_queue, jobs)
    for job in jobs:
        await enqueue_send(portal, job)
    return len(jobs)


async def expire_messages(portal: Portal) -> int:
    """End API messages SENT more than VALIDITY_H ago without a report as UNDELIVERED (expired); how many.

    Through the engine's own expiry, so By-Delivered money is paid back as for any undelivered one.
    """
    now = datetime.now(UTC)
    rows = await Edr.select(Edr.id).where(
        Edr.campaign.is_null() & (Edr.status == "SENT") & (Edr.sent_at < now - timedelta(hours=VALIDITY_H))
    )
    return await expire_edrs(portal, [r["id"] for r in rows], now)


async def _submit(portal: Portal, request: Mapping[str, Any], channel: str, messages: list[OutboundMessage]) -> int:
    provider = await ready_provider(portal, channel)
    name = log_name(request["id"])

    async def record(answered: list[SendResult]) -> None:
        await apply_early_reports(portal, channel, await _record(request, answered))

    await submission.open_log(portal.redis, name)
    async with submission.Progress(portal.redis, name, record) as progress:
        if provider.capabilities.submit_progress:
            results = await provider.send_batch(messages, progress)
        else:
            await progress.leaving([m.edr_id for m in messages])
            results = await provider.send_batch(messages)
    keys = await _record(request, results)
    await submission.close_log(portal.redis, name)
    await apply_early_reports(portal, channel, keys)
    return sum(1 for r in results if r.accepted)
