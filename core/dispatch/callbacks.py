"""Signed callbacks to customers' URLs through a durable outbox (API-3): at least once, retried for a day.

Rows are written by the transaction that changes what they report (``queue_status_callbacks``: one look-up and
one bulk insert per chunk of changed EDRs), so a committed status always has its callback and a rolled-back one
never does. Workers claim due rows in batches by moving ``next_attempt_at`` a lease ahead (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers never take the same row; SQLite has one writer), POST them through one
pooled client with bounded concurrency, and mark a 2xx delivered or schedule the next try with exponential
back-off. A worker that dies mid-delivery leaves its rows due again once the lease passes: nothing is lost, and
the receiver may see a callback twice (the transactionID and status tell duplicates apart).

Each call carries ``X-Timestamp`` (unix seconds) and ``X-Signature``: the hex HMAC-SHA256 of
``timestamp + "." + body`` with the key's callback secret (docs/api.md shows how to verify it).
"""

# ruff: noqa: S608 — statements interpolate only placeholders ($n) and fixed SQL words, never values.

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import httpx
import msgspec

from core.accounts.callback_urls import PinnedBackend, RefusedAddress, Resolver, system_resolver
from core.accounts.tables import ApiKey
from core.db import is_sqlite, json_value, write_transaction
from core.dispatch.tables import MoRoute
from core.metrics import CALLBACK_BACKLOG
from core.providers import Click, InboundMessage, LinkTarget
from core.rawsql import RawSql

OUTBOX_COLUMNS = (
    "partner",
    "api_key",
    "event",
    "transaction_id",
    "url",
    "body",
    "state",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
)
BATCH = 100  # rows claimed per statement
CONCURRENCY = 20  # calls in flight per worker
TIMEOUT_S = 10.0
LEASE_S = 60  # longer than a call may take (TIMEOUT_S): a claim older than this belongs to a dead worker
FIRST_RETRY_S = 10
MAX_RETRY_S = 3600
GIVE_UP_AFTER = timedelta(hours=24)
# How long an MT sent with acceptMO keeps its number's answers on its API key (the guide sets no limit).
MO_EXPECTATION = timedelta(days=7)
MO_CHUNK = 500  # slots per statement: 1,500 parameters, under SQLite's and PostgreSQL's limits
KEEP_FINISHED = timedelta(days=30)  # delivered and expired rows stay this long for the per-key history page
MAX_BATCHES_PER_RUN = 50  # one run of the job ends, so the next tick's run (or another worker) takes over


def event_time(moment: datetime) -> str:
    """The guide's ``yyyy-MM-dd'T'HH:mm:ss.SSSxxx``: milliseconds and a ±hh:mm offset (UTC here)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp + "." + body`` that ``X-Signature`` carries."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> int:
    """Seconds before the next try after ``attempts`` failed ones: 10 s, 20 s, 40 s… at most an hour."""
    return min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S)


def _status_body(row: Mapping[str, Any], status: str, at: datetime) -> str:
    body: dict[str, str] = {
        "transactionID": row["transaction_id"],
        "dnis": row["destination"],
        "status": status,
        "eventTime": event_time(at),
        "channel": str(row["channel"]).upper(),
    }
    if row["client_ref"]:
        body["clientRef"] = row["client_ref"]
    return msgspec.json.encode(body).decode()


async def queue_status_callbacks(sql: RawSql, events: Sequence[tuple[int, str, datetime]]) -> int:
    """Queue a callback for each (EDR id, new status, time) whose API key has a callback URL; how many.

    Call inside the transaction that changes those statuses. One SELECT and one bulk insert for the whole chunk.
    """
    if not events:
        return 0
    ids = sorted({edr for edr, _, _ in events})
    marks = ", ".join(f"${n}" for n in range(1, len(ids) + 1))
    rows = await sql.rows(
        "SELECT e.id, e.partner, e.api_key, e.transaction_id, e.destination, e.channel, e.client_ref, k.callback_url"
        f" FROM edr AS e JOIN api_key AS k ON k.id = e.api_key WHERE e.id IN ({marks}) AND k.callback_url <> ''",
        *ids,
    )
    found = {r["id"]: r for r in rows}
    now = datetime.now(UTC)
    records = [
        (
            row["partner"],
            row["api_key"],
            status,
            row["transaction_id"],
            row["callback_url"],
            _status_body(row, status, at),
            "pending",
            0,
            now,
            "",
            now,
        )
        for edr, status, at in events
        if (row := found.get(edr)) is not None
    ]
    await sql.bulk("callback_outbox", OUTBOX_COLUMNS, records)
    return len(records)


async def queue_click_callbacks(sql: RawSql, clicks: Sequence[tuple[LinkTarget, Click]]) -> int:
    """Queue a CLICK callback for each stored click to every API key of the link's company that asked for clicks
    (and has a callback URL); how many. Call in the transaction storing the clicks: one SELECT, one bulk insert."""
    partners = sorted({target.recipient.partner_id for target, _ in clicks})
    if not partners:
        return 0
    owners, args = sql.in_ids(partners, 2)
    rows = await sql.rows(
        f"SELECT id, partner, callback_url FROM api_key WHERE partner {owners}"
        " AND click_callbacks = $1 AND callback_url <> '' ORDER BY id",
        True,
        *args,
    )
    keys: dict[int, list[Mapping[str, Any]]] = {}
    for r in rows:
        keys.setdefault(r["partner"], []).append(r)
    now = datetime.now(UTC)
    records = []
    for target, click in clicks:
        for key in keys.get(target.recipient.partner_id, []):
            body = {
                "event": "CLICK",
                "clickID": click.key,
                "code": target.code,
                "shortUrl": f"{target.domain}/{target.code}",
                "campaignID": target.recipient.campaign_id,
                "dnis": target.recipient.destination,
                "eventTime": event_time(click.clicked_at),
                "os": click.os,
                "browser": click.browser,
                "device": click.device,
            }
            records.append(
                (
                    target.recipient.partner_id,
                    key["id"],
                    "CLICK",
                    click.key[:36],
                    key["callback_url"],
                    msgspec.json.encode(body).decode(),
                    "pending",
                    0,
                    now,
                    "",
                    now,
                )
            )
    await sql.bulk("callback_outbox", OUTBOX_COLUMNS, records)
    return len(records)


async def mo_partners(sql: RawSql, messages: Sequence[InboundMessage]) -> list[int | None]:
    """The partner each MO is for: the one whose enabled sender ID of the channel it was sent to.

    Several partners may hold the same sender ID: then the one that last sent from it to this number (its newest
    EDR; the only per-message query, for shared sender IDs alone). None when nobody matches.
    """
    if not messages:
        return []
    names = sorted({m.destination for m in messages})
    named, args = sql.in_ids(names, kind="text")
    rows = await sql.rows(f"SELECT channel, name, partner FROM sender WHERE status = 'enabled' AND name {named}", *args)
    holders: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        holders.setdefault((r["channel"], r["name"]), []).append(r["partner"])
    found: list[int | None] = []
    for m in messages:
        candidates = sorted(set(holders.get((m.channel, m.destination), [])))
        if len(candidates) <= 1:
            found.append(candidates[0] if candidates else None)
            continue
        holding, args = sql.in_ids(candidates, 4)
        latest = await sql.column(
            "SELECT partner FROM edr WHERE channel = $1 AND sender = $2 AND destination = $3"
            f" AND partner {holding} ORDER BY id DESC LIMIT 1",
            m.channel,
            m.destination,
            m.source,
            *args,
        )
        found.append(latest[0] if latest else None)
    return found


def _slot(partner: int, channel: str, sender: str, number: str) -> str:
    return f"{partner}:{channel}:{sender}:{number}"


async def expect_mo(
    sql: RawSql, partner: int, api_key: int, messages: Sequence[tuple[str, str, str]], now: datetime
) -> None:
    """Route MO answers to the (channel, sender ID, number) of API messages sent with acceptMO to ``api_key``'s
    callback URL for ``MO_EXPECTATION``; the newest message's key wins. Call in the transaction accepting them."""
    slots = sorted({_slot(partner, *m) for m in messages})
    expires = now + MO_EXPECTATION
    for start in range(0, len(slots), MO_CHUNK):
        chunk = slots[start : start + MO_CHUNK]
        values = ", ".join(f"(${3 * i + 1}, ${3 * i + 2}, ${3 * i + 3})" for i in range(len(chunk)))
        await sql.execute(
            f"INSERT INTO mo_expectation (slot, api_key, expires_at) VALUES {values} ON CONFLICT (slot)"
            " DO UPDATE SET api_key = excluded.api_key, expires_at = excluded.expires_at",
            *(value for slot in chunk for value in (slot, api_key, expires)),
        )


async def _expected(sql: RawSql, items: Sequence[tuple[InboundMessage, int | None, datetime]]) -> dict[str, Any]:
    """The live acceptMO expectations of these MO: slot → (api key id, its callback URL)."""
    slots = sorted({_slot(p, m.channel, m.destination, m.source) for m, p, _ in items if p is not None})
    found: dict[str, Any] = {}
    for start in range(0, len(slots), MO_CHUNK):
        chunk = slots[start : start + MO_CHUNK]
        among, args = sql.in_ids(chunk, 2, kind="text")
        rows = await sql.rows(
            "SELECT x.slot, x.api_key, k.callback_url FROM mo_expectation AS x JOIN api_key AS k ON k.id = x.api_key"
            f" WHERE x.slot {among} AND x.expires_at > $1 AND k.callback_url <> ''",
            datetime.now(UTC),
            *args,
        )
        found.update({r["slot"]: (r["api_key"], r["callback_url"]) for r in rows})
    return found


async def forget_expectations() -> int:
    """Drop expired acceptMO expectations; how many."""
    async with write_transaction() as tx:
        return await RawSql(tx.connection, sqlite=is_sqlite()).execute(
            "DELETE FROM mo_expectation WHERE expires_at <= $1", datetime.now(UTC)
        )


async def queue_mo_callbacks(sql: RawSql, items: Sequence[tuple[InboundMessage, int | None, datetime]]) -> int:
    """Queue the MO callbacks of (message, partner, received at), when the partner's parent turned MO on: to the
    API key of an MT sent with acceptMO to that number from that sender ID (guide 13.3.2, signed with the key's
    secret), else to the sender ID's route, else to the partner's default MO URL (MO-4). Call in the transaction
    storing them."""
    partners = sorted({p for _, p, _ in items if p is not None})
    if not partners:
        return 0
    among, args = sql.in_ids(partners)
    routes = {
        (r["partner"], r["sender"]): r["url"]
        for r in await sql.rows(f"SELECT partner, sender, url FROM mo_route WHERE partner {among}", *args)
    }
    enabled = {
        r["id"]
        for r in await sql.rows(f"SELECT id, options FROM partner WHERE id {among}", *args)
        if (json_value(r["options"]) or {}).get("mo_enabled")
    }
    expected = await _expected(sql, items)
    now = datetime.now(UTC)
    records = []
    for message, partner, at in items:
        if partner is None or partner not in enabled:
            continue
        api_key, url = expected.get(_slot(partner, message.channel, message.destination, message.source), (None, ""))
        url = url or routes.get((partner, message.destination)) or routes.get((partner, ""))
        if not url:
            continue
        transaction = str(uuid.uuid4())
        body = {
            "transactionID": transaction,
            "dnis": message.source,
            "status": "DELIVERED",
            "eventTime": event_time(at),
            "channel": message.channel.upper(),
            "message": message.text,
            "sender": message.destination,
        }
        records.append(
            (partner, api_key, "MO", transaction, url, msgspec.json.encode(body).decode(), "pending", 0, now, "", now)
        )
    await sql.bulk("callback_outbox", OUTBOX_COLUMNS, records)
    return len(records)


async def _claim(limit: int) -> list[Mapping[str, Any]]:
    """Take up to ``limit`` due rows for LEASE_S; each try counts as an attempt from here."""
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        skip = "" if sql.sqlite else " FOR UPDATE SKIP LOCKED"
        rows = await sql.rows(
            "UPDATE callback_outbox SET next_attempt_at = $1, attempts = attempts + 1, last_attempt_at = $2"
            " WHERE id IN (SELECT id FROM callback_outbox WHERE state = 'pending' AND next_attempt_at <= $2"
            f" ORDER BY next_attempt_at LIMIT $3{skip}) RETURNING id, partner, api_key, url, body, attempts",
            now + timedelta(seconds=LEASE_S),
            now,
            limit,
        )
        return [dict(r) for r in rows]


async def _secrets(key_ids: set[int]) -> dict[int, str]:
    if not key_ids:
        return {}
    rows = await ApiKey.select(ApiKey.id, ApiKey.callback_secret).where(ApiKey.id.is_in(sorted(key_ids)))
    return {r["id"]: r["callback_secret"] for r in rows}


async def _mo_secrets(partner_ids: set[int]) -> dict[int, str]:
    """The secret of each partner's Callback Settings (its default MO route), which signs its MO callbacks."""
    if not partner_ids:
        return {}
    rows = await MoRoute.select(MoRoute.partner, MoRoute.secret).where(
        MoRoute.partner.is_in(sorted(partner_ids)) & (MoRoute.sender == "")
    )
    return {r["partner"]: r["secret"] for r in rows if r["secret"]}


class CallResult(msgspec.Struct):
    """How one call ended."""

    id: int
    attempts: int
    ok: bool
    status: int | None = None
    error: str = ""
    final: bool = False  # no later try can succeed: give up now


async def post_callback(client: httpx.AsyncClient, row: Mapping[str, Any], secret: str | None) -> CallResult:
    """Post one outbox row through ``client`` (``make_client``'s, which checks the host's addresses as it connects)."""
    if secret is None:
        gone = "The API key was removed" if row["api_key"] is not None else "The Callback Settings were removed"
        return CallResult(row["id"], row["attempts"], False, error=gone, final=True)
    body = row["body"].encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Timestamp": stamp, "X-Signature": sign(secret, stamp, body)}
    try:
        answer = await client.post(row["url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        if isinstance(exc.__cause__, RefusedAddress):
            return CallResult(row["id"], row["attempts"], False, error=str(exc.__cause__))
        return CallResult(row["id"], row["attempts"], False, error=f"{type(exc).__name__}: {exc}"[:200])
    ok = 200 <= answer.status_code < 300
    return CallResult(row["id"], row["attempts"], ok, answer.status_code, "" if ok else f"HTTP {answer.status_code}")


async def _record(results: Sequence[CallResult]) -> None:
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        await sql.executemany(
            "UPDATE callback_outbox SET state = 'delivered', delivered_at = $2, last_status = $3, last_error = ''"
            " WHERE id = $1",
            [(r.id, now, r.status) for r in results if r.ok],
        )
        failed = []
        for r in results:
            if r.ok:
                continue
            retry_at = now + timedelta(seconds=retry_delay(r.attempts))
            # A try that would fall beyond a day after the callback was made is not made: the row gives up.
            give_up_if_before = now + GIVE_UP_AFTER if r.final else retry_at - GIVE_UP_AFTER
            failed.append((r.id, give_up_if_before, retry_at, r.status, r.error))
        await sql.executemany(
            "UPDATE callback_outbox SET state = CASE WHEN created_at < $2 THEN 'expired' ELSE 'pending' END,"
            " next_attempt_at = $3, last_status = $4, last_error = $5 WHERE id = $1",
            failed,
        )


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose network layer is ``PinnedBackend``: each new connection goes
    to an address checked at that moment (the SSRF check at send time, immune to DNS rebinding)."""

    def __init__(self, backend: PinnedBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx takes no network backend, so its pool is replaced by an identical one that has ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def make_client(*, allow_private: bool, resolver: Resolver = system_resolver) -> httpx.AsyncClient:
    """The pooled client callbacks are posted with: it connects only to addresses checked as it connects (any
    address when ``allow_private``), never through a proxy; redirects are not followed (they could lead inside)."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    return httpx.AsyncClient(
        transport=PinnedTransport(PinnedBackend(allow_private=allow_private, resolver=resolver), limits),
        timeout=TIMEOUT_S,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "campaign-portal-callbacks"},
    )


async def deliver_due(client: httpx.AsyncClient) -> int:
    """Post due callbacks in claimed batches until none is due (or MAX_BATCHES_PER_RUN); how many were tried.

    ``client`` is ``make_client``'s, made with the installation's ``callbacks_allow_private``.
    """
    gate = asyncio.Semaphore(CONCURRENCY)
    tried = 0

    async def one(row: Mapping[str, Any], secret: str | None) -> CallResult:
        async with gate:
            return await post_callback(client, row, secret)

    for _ in range(MAX_BATCHES_PER_RUN):
        rows = await _claim(BATCH)
        if not rows:
            break
        keys = await _secrets({r["api_key"] for r in rows if r["api_key"] is not None})
        partners = await _mo_secrets({r["partner"] for r in rows if r["api_key"] is None})
        results = await asyncio.gather(
            *(one(r, keys.get(r["api_key"]) if r["api_key"] is not None else partners.get(r["partner"])) for r in rows)
        )
        await _record(results)
        tried += len(rows)
    return tried


async def measure_backlog() -> None:
    """Set ``portal_callback_backlog``: pending rows due now and waiting for a retry (found by the state index)."""
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        due = await sql.column(
            "SELECT count(*) FROM callback_outbox WHERE state = 'pending' AND next_attempt_at <= $1", now
        )
        waiting = await sql.column(
            "SELECT count(*) FROM callback_outbox WHERE state = 'pending' AND next_attempt_at > $1", now
        )
    CALLBACK_BACKLOG.labels(kind="due").set(due[0])
    CALLBACK_BACKLOG.labels(kind="retrying").set(waiting[0])


async def forget_finished() -> None:
    """Drop delivered and expired rows after KEEP_FINISHED (by the indexed ``next_attempt_at``, their last claim)."""
    async with write_transaction() as tx:
        await RawSql(tx.connection, sqlite=is_sqlite()).execute(
            "DELETE FROM callback_outbox WHERE next_attempt_at < $1 AND state <> 'pending'",
            datetime.now(UTC) - KEEP_FINISHED,
        )
