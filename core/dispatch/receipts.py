"""Delivery reports and MO messages from channels, applied in bulk (DSP-5).

Reports are matched by vendor connection and vendor message id within the channel (a report without a
connection: by vendor id alone), since an SMSC that restarts hands out ids 1, 2, 3… again; when several
submissions share the key, the newest one gets the report (a multipart SMS: by part, the message delivered only
when every part is). A report for a key not stored yet — the receipt overtook the submit response — waits in
``early_report`` until the batch's results are recorded. Statuses only move up by rank, so duplicates and
out-of-order reports change nothing; a late positive report may lift UNDELIVERED to DELIVERED, never the
other way. Counters and By-Delivered money move in the same transaction as the EDRs.

A receipt may overtake its submit result while an older message has the same key (a restarted SMSC): the
newer message is not stored yet, so the older one would get it. Answers are recorded while a batch submits
(core.dispatch.submission), and the SMS channel holds receipts for ids of a batch it is still submitting for
twice that interval before handing them over. Left open: a database slower than that hold.
"""

# ruff: noqa: S608 — statements interpolate only placeholders ($n) and fixed SQL words, never values.

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from core.db import is_sqlite, write_transaction
from core.dispatch import callbacks, money, packs
from core.dispatch.campaign_state import finish_if_done, refresh_ledger_details
from core.events import MessageStatusChange, MessageStatusChanged
from core.metrics import count_messages
from core.portal import Portal
from core.providers import DELIVERY_STATES, DeliveryReport, InboundMessage
from core.rawsql import RawSql

Key = tuple[int | None, str]  # (vendor connection id or None, vendor message id): what a report is matched by
RANK = {"PREPARED": 0, "BILLED": 1, "SENT": 2, "FAILED": 3, "UNDELIVERED": 3, "DELIVERED": 4, "SEEN": 5}
CHUNK = 1_000
POSITIVE = {"DELIVERED", "SEEN"}
EARLY_COLUMNS = (
    "channel",
    "connection",
    "vendor_message_id",
    "state",
    "vendor_status",
    "error_code",
    "done_at",
    "received_at",
)


class Outcome:
    """What one report means for one EDR."""

    __slots__ = ("done_at", "error", "status", "vendor_status")

    def __init__(self, status: str, vendor_status: str, error: str, done_at: datetime) -> None:
        self.status, self.vendor_status, self.error, self.done_at = status, vendor_status, error, done_at


def _outcome(report: DeliveryReport, now: datetime) -> Outcome | None:
    status = DELIVERY_STATES.get(report.state, "")
    if not status:
        return None
    error = (
        "" if status in POSITIVE else f"{report.state}" + (f" (error {report.error_code})" if report.error_code else "")
    )
    return Outcome(status, report.vendor_status[:20], error[:200], report.done_at or now)


INBOUND_COLUMNS = ("partner", "channel", "source", "destination", "text", "vendor_message_id", "received_at")
INBOUND_CHUNK = 500  # 3,500 parameters a statement: under SQLite's and PostgreSQL's limits
InboundListener = Callable[[Portal, list[int]], Awaitable[None]]
_inbound_listeners: list[InboundListener] = []


def _placeholders(count: int, start: int = 1) -> str:
    return ", ".join(f"${i}" for i in range(start, start + count))


def _by_connection(keys: Sequence[Key]) -> dict[int | None, list[str]]:
    grouped: dict[int | None, list[str]] = defaultdict(list)
    for connection, vendor_id in keys:
        grouped[connection].append(vendor_id)
    return grouped


async def _targets(sql: RawSql, channel: str, keys: Sequence[Key]) -> dict[Key, tuple[int, bool]]:
    """The EDR each key's report is for, and whether the key is one part's of a multipart message.

    That is the newest submission with the key (latest sent_at, then highest id): an older one with the same
    key was sent before the SMSC reused the id. A multipart message's first part id is also on its EDR; its
    part row wins, so the part is recorded. One statement per connection among the keys.
    """
    targets: dict[Key, tuple[int, bool]] = {}
    for connection, ids in _by_connection(keys).items():
        marks = _placeholders(len(ids), 2)
        if connection is None:  # a report without a connection matches by vendor id alone
            on_edr = on_part = ""
            args: tuple[Any, ...] = (channel, *ids)
        else:
            on_edr, on_part = (f" AND {t}.connection = ${len(ids) + 2}" for t in ("e", "p"))
            args = (channel, *ids, connection)
        rows = await sql.rows(
            "SELECT e.id AS edr, e.vendor_message_id, 0 AS part, e.sent_at FROM edr AS e"
            f" WHERE e.vendor_message_id IN ({marks}) AND e.channel = $1{on_edr}"
            " UNION ALL"
            " SELECT p.edr, p.vendor_message_id, 1 AS part, e.sent_at FROM edr_part AS p JOIN edr AS e ON e.id = p.edr"
            f" WHERE p.vendor_message_id IN ({marks}) AND e.channel = $1{on_part}"
            " ORDER BY sent_at, edr, part",
            *args,
        )
        for r in rows:  # in submission order: the newest is written last
            targets[(connection, r["vendor_message_id"])] = (r["edr"], bool(r["part"]))
    return targets


async def _parts(sql: RawSql, reports: dict[tuple[int, str], Outcome]) -> dict[int, Outcome]:
    """Record the reported parts' states, by (EDR, part id); the outcomes of messages whose parts decide them now."""
    if not reports:
        return {}
    await sql.executemany(
        "UPDATE edr_part SET state = $1 WHERE edr = $2 AND vendor_message_id = $3",
        [(outcome.status, edr, vendor_id) for (edr, vendor_id), outcome in reports.items()],
    )
    edrs = sorted({edr for edr, _ in reports})
    states = await sql.rows(
        f"SELECT edr, state FROM edr_part WHERE edr IN ({_placeholders(len(edrs))})",
        *edrs,
    )
    by_edr: dict[int, list[str]] = defaultdict(list)
    for r in states:
        by_edr[r["edr"]].append(r["state"])
    last = {edr: outcome for (edr, _), outcome in reports.items()}
    decided: dict[int, Outcome] = {}
    for edr, parts in by_edr.items():
        negative = [s for s in parts if s and s not in POSITIVE]
        if negative:
            outcome = last[edr]
            decided[edr] = (
                outcome
                if outcome.status not in POSITIVE
                else Outcome("UNDELIVERED", "", "a part was not delivered", outcome.done_at)
            )
        elif all(parts):
            decided[edr] = last[edr]
    return decided


async def key_lookups_only(sql: RawSql) -> None:
    """Every statement of a report batch finds rows by key. EDRs arrive by the million faster than autovacuum
    analyses them, and with stale statistics PostgreSQL scanned the whole table per batch of 1,000 ids (6 s
    each, measured): forbid sequential scans for this transaction only."""
    if not sql.sqlite:
        await sql.execute("SET LOCAL enable_seqscan = off")


async def apply_outcomes(sql: RawSql, outcomes: dict[int, Outcome]) -> list[dict[str, Any]]:
    """Move EDRs (by id) to their new statuses where the rank allows; counters and money follow. Changed rows."""
    if not outcomes:
        return []
    ids = sorted(outcomes)
    lock = "" if sql.sqlite else " FOR UPDATE"
    rows = await sql.rows(
        "SELECT id, partner, campaign, batch, channel, status, price, charge_on_delivery, transaction_id, api_key"
        f" FROM edr WHERE id IN ({_placeholders(len(ids))}){lock}",
        *ids,
    )
    changed = []
    counters: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    late_ids: dict[int, list[int]] = defaultdict(list)
    refund_ids: dict[int, list[int]] = defaultdict(list)
    loose: list[dict[str, Any]] = []  # By-Delivered messages without a campaign (the public API's)
    for record in rows:
        new = outcomes[record["id"]]
        old = record["status"]
        if RANK[new.status] <= RANK[old] or old in ("PREPARED", "BILLED", "FAILED"):
            continue
        row = {**record, "new": new}
        changed.append(row)
        if row["campaign"] is None:
            if row["charge_on_delivery"] and (old == "SENT" or new.status in POSITIVE):
                loose.append(row)
            continue
        c = counters[row["campaign"]]
        c["partner"] = row["partner"]
        for status, sign in ((old, -1), (new.status, 1)):
            if status in ("DELIVERED", "SEEN"):
                c["delivered"] += sign if not (old == "DELIVERED" and new.status == "SEEN") else 0
            elif status == "UNDELIVERED":
                c["undelivered"] += sign
        if row["charge_on_delivery"] and old == "SENT":
            c["reserved"] -= row["price"]
            if new.status in POSITIVE:
                c["cost"] += row["price"]
            else:
                c["refund"] += row["price"]
                refund_ids[row["campaign"]].append(row["id"])
        elif row["charge_on_delivery"] and old == "UNDELIVERED" and new.status in POSITIVE:
            # Released when it ended undelivered; delivered after all, so it is charged now (BIL-5).
            row["late"] = True
            c["late"] += row["price"]
            late_ids[row["campaign"]].append(row["id"])
    await sql.update_rows(
        "edr",
        ("id", "bigint"),
        (("status", "varchar"), ("vendor_status", "varchar"), ("error", "varchar"), ("done_at", "timestamptz")),
        [(r["id"], r["new"].status, r["new"].vendor_status, r["new"].error, r["new"].done_at) for r in changed],
    )
    await _settle_loose(sql, loose)
    await callbacks.queue_status_callbacks(
        sql, [(r["id"], r["new"].status, r["new"].done_at) for r in changed if r["api_key"] is not None]
    )
    # Releases of every campaign and every level in one pass, in the one lock order (money.move_all).
    releases: list[tuple[int, int, int]] = []
    ledgers: dict[int, int] = {}
    for campaign_id, c in counters.items():
        # A message a pack paid for costs the sender nothing, yet its levels and its pack are released too.
        if refund_ids[campaign_id] or c["late"]:
            ledgers[campaign_id] = (
                await sql.column("SELECT ledger_entry_id FROM campaign WHERE id = $1", campaign_id)
            )[0]
        if refund_ids[campaign_id]:
            releases.append((c["partner"], ledgers[campaign_id], c["refund"]))
            releases += await money.level_amounts_of(sql, refund_ids[campaign_id])
    await packs.give_back(sql, [edr_id for ids in refund_ids.values() for edr_id in ids])  # packs, then balances
    await money.move_all(sql, releases)
    for campaign_id, c in counters.items():
        if c["late"]:
            c["cost"] += await _charge_late(sql, c["partner"], ledgers[campaign_id], c["late"], late_ids[campaign_id])
        await sql.execute(
            "UPDATE campaign SET delivered = delivered + $1, undelivered = undelivered + $2, cost = cost + $3,"
            " reserved = reserved + $4 WHERE id = $5",
            c["delivered"],
            c["undelivered"],
            c["cost"],
            c["reserved"],
            campaign_id,
        )
    return changed


async def _settle_loose(sql: RawSql, rows: list[dict[str, Any]]) -> None:
    """By-Delivered money of campaign-less messages (BIL-5), on the ledger row their product names.

    Paid when accepted, so an end that is not a delivery pays back, and a delivery after such an end (a late
    receipt) is charged again.
    """
    if not rows:
        return
    ledgers = await money.ledgers_of(sql, rows)
    refunds: list[tuple[int, int, int]] = []
    refunded: list[int] = []
    late: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        ledger = ledgers.get(row["id"])
        if ledger is None:
            continue
        if row["status"] == "SENT" and row["new"].status not in POSITIVE:
            refunds.append((row["partner"], ledger, row["price"]))
            refunded.append(row["id"])
        elif row["status"] == "UNDELIVERED" and row["new"].status in POSITIVE:
            late[row["partner"], ledger].append(row)
    levels = await money.level_amounts_of(sql, refunded)
    from_packs = await packs.give_back(sql, refunded)  # packs, then balances, then ledger rows
    await money.move_all(sql, refunds + levels)
    await packs.count_on_ledgers(sql, from_packs)
    for (partner, ledger), charged in sorted(late.items()):
        await _charge_late(sql, partner, ledger, sum(r["price"] for r in charged), [r["id"] for r in charged])


async def _charge_late(sql: RawSql, partner_id: int, ledger_entry_id: int, amount: int, edr_ids: list[int]) -> int:
    """Charge late deliveries of By-Delivered messages; what was charged.

    The balance rule holds here too (BIL-6): when the credit limit of the sender or of any level above leaves no
    room, the messages stay delivered but free at every level (their prices become 0), so the campaign's cost and
    ledger breakdown keep adding up.
    """
    if not edr_ids:
        return 0
    try:
        # Every level pays again too; when any of them cannot, none does (the savepoint undoes the others).
        async with money.savepoint(sql):
            levels = await money.level_amounts_of(sql, edr_ids, sign=-1)
            await money.move_all(sql, [(partner_id, ledger_entry_id, -amount), *levels])
    except money.InsufficientBalance:
        marks = _placeholders(len(edr_ids))
        await sql.execute(f"UPDATE edr SET price = 0 WHERE id IN ({marks})", *edr_ids)
        await sql.execute(f"UPDATE edr_charge SET price = 0 WHERE edr IN ({marks})", *edr_ids)
        return 0
    return amount


async def _apply(
    portal: Portal, channel: str, reports: Sequence[DeliveryReport]
) -> tuple[list[dict[str, Any]], list[Key]]:
    """Apply the reports whose EDRs are stored; store the others as early reports. The changes, and the keys stored."""
    now = datetime.now(UTC)
    by_key = {(r.connection, r.vendor_message_id): o for r in reports if (o := _outcome(r, now)) is not None}
    raw = {(r.connection, r.vendor_message_id): r for r in reports}
    changed: list[dict[str, Any]] = []
    stored: list[Key] = []
    keys = list(by_key)
    for start in range(0, len(keys), CHUNK):
        chunk = {k: by_key[k] for k in keys[start : start + CHUNK]}
        async with write_transaction() as tx:
            sql = RawSql(tx.connection, sqlite=is_sqlite())
            await key_lookups_only(sql)
            targets = await _targets(sql, channel, list(chunk))
            decided = await _parts(sql, {(edr, k[1]): chunk[k] for k, (edr, part) in targets.items() if part})
            for k, (edr, part) in targets.items():
                if not part:
                    decided[edr] = chunk[k]
            early = [raw[k] for k in chunk if k not in targets]
            await sql.bulk(
                "early_report",
                EARLY_COLUMNS,
                [
                    (
                        channel,
                        r.connection,
                        r.vendor_message_id,
                        r.state,
                        r.vendor_status[:20],
                        r.error_code[:20],
                        r.done_at,
                        now,
                    )
                    for r in early
                ],
            )
            changed += await apply_outcomes(sql, decided)
        stored += [(r.connection, r.vendor_message_id) for r in early]
    return changed, stored


async def after_changes(portal: Portal, changed: list[dict[str, Any]]) -> None:
    """Announce changed EDRs to plugins and complete the campaigns they finished."""
    if not changed:
        return
    for channel in {r["channel"] for r in changed}:
        count_messages(channel, [r["new"].status for r in changed if r["channel"] == channel])
    await portal.emit(
        MessageStatusChanged(
            changes=tuple(
                MessageStatusChange(
                    edr_id=r["id"],
                    partner_id=r["partner"],
                    channel=r["channel"],
                    status=r["new"].status,
                    transaction_id=r["transaction_id"],
                )
                for r in changed
            )
        )
    )
    late = {r["campaign"] for r in changed if r.get("late")}
    for campaign_id in {r["campaign"] for r in changed if r["campaign"] is not None}:
        if not await finish_if_done(portal, campaign_id) and campaign_id in late:
            await refresh_ledger_details(campaign_id)


async def record_deliveries(portal: Portal, channel: str, reports: Sequence[DeliveryReport]) -> None:
    """The Portal façade's entry point for a channel's reports."""
    changed, early = await _apply(portal, channel, reports)
    await after_changes(portal, changed)
    if early:
        # The submit side looks for early reports after its results commit. Looking again after this commit too
        # means one side always sees the other's rows, even when both commit at once; otherwise such a report
        # waited for the sweeper (retry_early_reports, every 10 s).
        await apply_early_reports(portal, channel, early)


async def apply_early_reports(portal: Portal, channel: str, keys: Sequence[Key]) -> None:
    """Apply reports that arrived before these keys were stored, then forget them.

    A stored report without a connection matches any key with its vendor id, as it would have on arrival.
    """
    found: list[DeliveryReport] = []
    for connection, ids in _by_connection(keys).items():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            async with write_transaction() as tx:
                sql = RawSql(tx.connection, sqlite=is_sqlite())
                await key_lookups_only(sql)
                rows = await sql.rows(
                    "DELETE FROM early_report WHERE channel = $1 AND (connection = $2 OR connection IS NULL)"
                    f" AND vendor_message_id IN ({_placeholders(len(chunk), 3)})"
                    " RETURNING connection, vendor_message_id, state, vendor_status, error_code, done_at",
                    channel,
                    connection,
                    *chunk,
                )
            found += [
                DeliveryReport(
                    vendor_message_id=r["vendor_message_id"],
                    state=r["state"],
                    vendor_status=r["vendor_status"],
                    error_code=r["error_code"],
                    done_at=r["done_at"] if isinstance(r["done_at"], datetime) or r["done_at"] is None else None,
                    connection=r["connection"],
                )
                for r in rows
            ]
    if found:
        # Not record_deliveries: a report whose EDR is still not stored goes back to wait, without a further look.
        changed, _ = await _apply(portal, channel, found)
        await after_changes(portal, changed)


async def record_inbound(portal: Portal, messages: Sequence[InboundMessage]) -> None:
    """Store MO messages as they came, tied to the partner whose sender ID they were sent to, and queue their
    callbacks (Callback Settings) in the same transaction; then tell the registered listeners (auto-replies)."""
    now = datetime.now(UTC)
    ids: list[int] = []
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        partners = await callbacks.mo_partners(sql, messages)
        rows = [
            (p, m.channel, m.source, m.destination, m.text, m.vendor_message_id, m.received_at or now)
            for m, p in zip(messages, partners, strict=True)
        ]
        # A multi-row INSERT rather than COPY: the listeners need the ids, and an MO batch is small.
        for start in range(0, len(rows), INBOUND_CHUNK):
            chunk = rows[start : start + INBOUND_CHUNK]
            values = ", ".join(
                f"({_placeholders(len(INBOUND_COLUMNS), 1 + i * len(INBOUND_COLUMNS))})" for i in range(len(chunk))
            )
            ids += await sql.column(
                f"INSERT INTO inbound_message ({', '.join(INBOUND_COLUMNS)}) VALUES {values} RETURNING id",
                *(value for row in chunk for value in row),
            )
        await callbacks.queue_mo_callbacks(
            sql, [(m, p, m.received_at or now) for m, p in zip(messages, partners, strict=True)]
        )
    for listener in _inbound_listeners:
        await listener(portal, ids)


def register_inbound_listener(listener: InboundListener) -> None:
    """Call ``listener(portal, ids)`` with the ids of every batch of MO messages once they are stored (once,
    however often the runtime starts): products above the engine, such as auto-replies, answer from there."""
    if listener not in _inbound_listeners:
        _inbound_listeners.append(listener)
