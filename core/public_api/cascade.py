"""API cascades (CMP-7 through /api/send_sms ``channels`` + ``fallbackTtl``): the next channel for whom the last one
did not reach, in bulk.

A request that lists several channels sends on the first; each of its attempts gets an ``api_cascade`` row (the
channels still to try, the TTL) written with its EDR. No timer or job per message: a periodic pass (``hand_over``,
every ten seconds from the worker's cron) takes, per TTL value and chunk, the attempts that are due — ended
UNDELIVERED or FAILED, or still only SENT ``ttl`` seconds after they left — and in one transaction marks their EDRs
``cascaded`` (one conditional UPDATE … RETURNING, so two passes never hand the same attempt on), deletes their rows
and writes the next channel's attempts through the API's own accept path (``services.accept``: priced, paid on the
day's API ledger row of that channel, chain levels charged, one send job). A crash before the commit leaves
everything as it was for the next pass; after it, nothing is due any more: never twice, never skipped.

The next attempt keeps the transaction id, API key, client reference, sender ID name and text of the one before; it
is checked like a new message (sender enabled on the channel, stop list of that sender, rate, balance). When it
cannot be sent it is written FAILED with the reason, unpaid, and its callback says so. Attempts that ended DELIVERED
(or SEEN) end their cascade: the pass deletes their rows.

The due attempts are read before the transaction that hands them on: pricing reads the company's rates and senders
and may create the day's ledger row under a Redis lock, which must not wait while SQLite's write lock is held. The
UPDATE checks again that each is still due and not yet handed on.
"""

# ruff: noqa: S608 — statements interpolate only placeholders ($n) and fixed SQL, never values.

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from core.actor import Actor
from core.campaigns.services import partner_options
from core.db import is_sqlite, write_transaction
from core.dispatch import callbacks
from core.portal import Portal
from core.public_api.auto_replies import _partner_actor
from core.public_api.checks import Message
from core.public_api.services import (
    API_EDR_COLUMNS,
    InsufficientFunds,
    Line,
    accept,
    enqueue_send,
    ledgers_for,
    new_job,
    resolve,
)
from core.public_api.tables import ApiCascade
from core.rawsql import RawSql

log = logging.getLogger(__name__)

CHUNK = 500  # attempts per transaction: a send job's batch
BLOCKED = "Your company is blocked: the next channel was not tried"
DUE = """
SELECT f.edr, f.partner, f.channels, f.ttl, f.label, f.accept_mo,
    e.api_key, e.transaction_id, e.client_ref, e.sender, e.destination, e.text
FROM api_cascade AS f JOIN edr AS e ON e.id = f.edr
WHERE f.ttl = {} AND e.cascaded = FALSE
AND (e.status IN ('UNDELIVERED', 'FAILED') OR (e.status = 'SENT' AND e.sent_at < {}))
ORDER BY f.edr LIMIT """ + str(CHUNK)
# Reached (or vanished) attempts end their cascade.
FORGET = (
    "DELETE FROM api_cascade WHERE NOT EXISTS (SELECT 1 FROM edr WHERE edr.id = api_cascade.edr"
    " AND edr.status NOT IN ('DELIVERED', 'SEEN'))"
)


def _mark(count: int) -> str:
    """Hand on those of ``count`` attempts still due and not handed on yet; the ids it took."""
    marks = ", ".join(f"${n}" for n in range(2, count + 2))
    return (
        f"UPDATE edr SET cascaded = TRUE WHERE id IN ({marks}) AND cascaded = FALSE"
        " AND (status IN ('UNDELIVERED', 'FAILED') OR (status = 'SENT' AND sent_at < $1)) RETURNING id"
    )


async def hand_over(portal: Portal) -> int:
    """One pass: every due attempt handed on to its next channel; how many."""
    await ApiCascade.raw(FORGET)
    ttls = [r["ttl"] for r in await ApiCascade.raw("SELECT DISTINCT ttl FROM api_cascade")]
    actors: dict[int, Actor | None] = {}
    moved = 0
    for ttl in sorted(ttls):
        while True:
            now = datetime.now(UTC)
            due = await ApiCascade.raw(DUE, ttl, now - timedelta(seconds=ttl))
            if not due:
                break
            moved += await _hand_over(portal, due, now - timedelta(seconds=ttl), actors, now)
            if len(due) < CHUNK:
                break
    return moved


class _Group:
    """The due attempts of one company's API key: the next attempts are accepted together (one send job)."""

    def __init__(self, partner_id: int, key_id: int) -> None:
        self.partner_id = partner_id
        self.key_id = key_id
        self.lines: list[Line] = []
        self.source: dict[str, int] = {}  # transaction id → the EDR id of the attempt before
        self.actor: Actor | None = None


async def _hand_over(
    portal: Portal, due: list[dict[str, Any]], cutoff: datetime, actors: dict[int, Actor | None], now: datetime
) -> int:
    groups: dict[tuple[int, int], _Group] = {}
    for r in due:
        group = groups.setdefault((r["partner"], r["api_key"]), _Group(r["partner"], r["api_key"]))
        channels = r["channels"].split(",")
        message = Message(
            channel=channels[0],
            sender=r["sender"],
            text=r["text"] or "",
            client_ref=r["client_ref"],
            numbers=[r["destination"]],
            label=r["label"],
            flash=False,
            accept_mo=bool(r["accept_mo"]),
            fallback=channels[1:],
            ttl=r["ttl"],
        )
        group.lines.append(Line(r["destination"], message, transaction_id=r["transaction_id"]))
        group.source[r["transaction_id"]] = r["edr"]
    books = {}
    for key, group in groups.items():
        if group.partner_id not in actors:
            actors[group.partner_id] = await _partner_actor(group.partner_id)
        group.actor = actors[group.partner_id]
        if group.actor is None:
            for line in group.lines:
                line.error = BLOCKED
            continue
        await resolve(portal, group.actor, group.lines, await partner_options(group.partner_id), now)
        books[key] = await ledgers_for(portal, group.actor, _good(group.lines), now)
    jobs: list[str] = []
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        ids = [r["edr"] for r in due]
        taken = set(await sql.column(_mark(len(ids)), cutoff, *ids))
        if not taken:
            return 0
        marks = ", ".join(f"${n}" for n in range(1, len(taken) + 1))
        await sql.execute(f"DELETE FROM api_cascade WHERE edr IN ({marks})", *sorted(taken))
        for key, group in groups.items():
            lines = [ln for ln in group.lines if group.source[ln.transaction_id] in taken]
            good = _good(lines)
            failed = [ln for ln in lines if ln not in good]
            if good and group.actor is not None:
                job = new_job()
                await sql.execute("SAVEPOINT api_cascade")
                try:
                    refused = await accept(sql, group.actor, group.key_id, job, good, books[key], now)
                except InsufficientFunds as short:
                    await sql.execute("ROLLBACK TO SAVEPOINT api_cascade")
                    for line in good:
                        line.error = short.detail
                    failed += good
                else:
                    await sql.execute("RELEASE SAVEPOINT api_cascade")
                    jobs.append(job)
                    failed += refused  # only a pack could pay for them, and it ran out since they were priced
            if failed:
                await _write_failed(sql, group, failed, now)
    for job in jobs:
        await enqueue_send(portal, job)
    return len(taken)


def _good(lines: list[Line]) -> list[Line]:
    return [ln for ln in lines if not ln.error and ln.priced is not None]


async def _write_failed(sql: RawSql, group: _Group, lines: list[Line], now: datetime) -> None:
    """The next attempts that cannot be sent: FAILED with the reason, unpaid, and their callbacks queued."""
    rows = []
    for line in lines:
        m, dest = line.message, line.priced.dest if line.priced is not None else None
        rows.append(
            (
                group.partner_id,
                None,  # campaign
                None,  # batch: never sent
                line.transaction_id,
                m.channel,
                m.sender,
                line.number,
                m.text,
                line.priced.parts if line.priced is not None else 1,
                dest.country_iso if dest else "",
                dest.country if dest else "",
                dest.mcc + dest.mnc if dest else "",
                dest.network if dest else "",
                None,  # rate
                0,  # price
                False,
                "FAILED",
                line.error[:200],
                now,
                now,
                group.key_id,
                m.client_ref,
                None,  # pack
            )
        )
    await sql.bulk("edr", API_EDR_COLUMNS, rows)
    by_transaction = {ln.transaction_id: ln.message.channel for ln in lines}
    marks = ", ".join(f"${n}" for n in range(2, len(by_transaction) + 2))
    written = await sql.rows(
        f"SELECT id, transaction_id, channel FROM edr WHERE campaign IS NULL AND batch IS NULL AND partner = $1"
        f" AND status = 'FAILED' AND transaction_id IN ({marks})",
        group.partner_id,
        *by_transaction,
    )
    events = [(r["id"], "FAILED", now) for r in written if by_transaction[r["transaction_id"]] == r["channel"]]
    await callbacks.queue_status_callbacks(sql, events)
    log.info("API cascade: %d next attempts of partner %s could not be sent", len(rows), group.partner_id)
