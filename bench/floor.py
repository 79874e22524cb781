"""The floor baseline of bench/dispatch.py: the least work per message the dispatch design needs, without the app.

A copy of a finished campaign's EDRs is seeded, untimed, as PREPARED rows in ready campaign_batch rows of ≤ 500 (what
expansion leaves) under a negative campaign id. Then as many loops as the engine runs send jobs per campaign claim one
batch each (batch and EDRs marked in one transaction, the EDRs' rows returned), submit it over the vendor connections
the benchmark configured (same binds, same window, split across them as SmsChannel does, receipts answered) and write
the outcomes back with one statement per batch. No saq, no pluggy, no billing, no submission log in Redis, no
counters: the floor's rows are deleted afterwards.

    floor_msgs_per_s = await run_floor(campaign_id)   # inside an event loop, with the database configured
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

from plugins.sms import encoding, pdu

CHUNK = 5_000
BATCH = 500


class _Slice:
    """The part of one batch given to one bind; ``ids`` fills in as submit_sm_resp come back."""

    __slots__ = ("future", "ids", "left")

    def __init__(self, size: int, future: asyncio.Future[list[str]]) -> None:
        self.ids: list[str] = [""] * size
        self.left = size
        self.future = future


class _Bind(asyncio.Protocol):
    """One bind_transceiver: queued submit_sm bodies go out while fewer than ``window`` are unanswered."""

    def __init__(self, window: int, bound: asyncio.Future[None]) -> None:
        self.window = window
        self.bound = bound
        self.buffer = bytearray()
        self.queue: deque[tuple[bytes, _Slice, int]] = deque()
        self.outstanding: dict[int, tuple[_Slice, int]] = {}
        self.seq = 1
        self.refused = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def submit(self, bodies: Sequence[bytes]) -> asyncio.Future[list[str]]:
        """Queue the bodies; a future of their vendor message ids, in order ("" where refused)."""
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        piece = _Slice(len(bodies), future)
        self.queue.extend((body, piece, n) for n, body in enumerate(bodies))
        self._fill()
        return future

    def _fill(self) -> None:
        out = []
        while self.queue and len(self.outstanding) < self.window:
            body, piece, n = self.queue.popleft()
            self.seq += 1
            self.outstanding[self.seq] = (piece, n)
            out.append(pdu.pdu(pdu.SUBMIT_SM, self.seq, body))
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        for command_id, status, seq, body in pdu.split_frames(self.buffer):
            if command_id == pdu.SUBMIT_SM_RESP:
                piece, n = self.outstanding.pop(seq)
                if status == pdu.ESME_ROK:
                    piece.ids[n] = pdu.decode_message_id(body)
                else:
                    self.refused += 1
                piece.left -= 1
                if piece.left == 0:
                    piece.future.set_result(piece.ids)
            elif command_id == pdu.DELIVER_SM:
                # Answered, not applied: the floor ends where the campaign's msg/s does, at the last result written.
                out.append(pdu.deliver_sm_resp(seq))
            elif command_id == pdu.ENQUIRE_LINK:
                out.append(pdu.enquire_link_resp(seq))
            elif command_id == pdu.BIND_TRANSCEIVER_RESP and not self.bound.done():
                if status:
                    self.bound.set_exception(RuntimeError(f"bind refused: {pdu.status_text(status)}"))
                else:
                    self.bound.set_result(None)
        if out and self.transport is not None:
            self.transport.write(b"".join(out))
        self._fill()


async def _bind(settings: Mapping[str, Any]) -> _Bind:
    """Connect and bind one vendor connection of the benchmark (host, port, credentials, window from its settings)."""
    loop = asyncio.get_running_loop()
    bound: asyncio.Future[None] = loop.create_future()
    window = int(settings.get("window", 64))
    _, link = await loop.create_connection(lambda: _Bind(window, bound), settings["host"], int(settings["port"]))
    assert link.transport is not None
    link.transport.write(pdu.bind_transceiver(1, settings["system_id"], settings["password"]))
    await asyncio.wait_for(bound, 10)
    return link


@asynccontextmanager
async def _statements() -> AsyncIterator[Any]:
    """Where one claim or one write runs: a pooled connection on PostgreSQL (each is one statement, so autocommit
    keeps it atomic without BEGIN and COMMIT round trips), an immediate transaction on SQLite (two statements)."""
    from core.db import engine, is_sqlite, write_transaction
    from core.rawsql import RawSql

    if is_sqlite():
        async with write_transaction() as tx:
            yield RawSql(tx.connection, sqlite=True)
        return
    pool = engine().pool  # type: ignore[attr-defined]
    async with pool.acquire() as connection:
        yield RawSql(connection, sqlite=False)


async def seed(source: int, floor: int) -> int:
    """Copy campaign ``source``'s sendable EDRs as PREPARED rows of campaign ``floor`` in ready batches; how many."""
    from core.db import is_sqlite, write_transaction
    from core.dispatch.expansion import EDR_COLUMNS
    from core.rawsql import RawSql

    at = {name: n for n, name in enumerate(EDR_COLUMNS)}
    last, total = 0, 0
    while True:
        async with write_transaction() as tx:
            sql = RawSql(tx.connection, sqlite=is_sqlite())
            rows = await sql.rows(
                f"SELECT id, {', '.join(EDR_COLUMNS)} FROM edr WHERE campaign = $1 AND id > $2"
                f" AND batch IS NOT NULL ORDER BY id LIMIT {CHUNK}",
                source,
                last,
            )
            if not rows:
                break
            last = rows[-1]["id"]
            fresh = []
            for start in range(0, len(rows), BATCH):
                part = rows[start : start + BATCH]
                batch = await sql.column(
                    "INSERT INTO campaign_batch (campaign, state, size, amount, worker, zone)"
                    " VALUES ($1, 'ready', $2, 0, '', '') RETURNING id",
                    floor,
                    len(part),
                )
                for row in part:
                    values = [row[name] for name in EDR_COLUMNS]
                    values[at["campaign"]], values[at["batch"]] = floor, batch[0]
                    values[at["transaction_id"]] = f"f{-floor}:{row['destination']}"
                    values[at["status"]], values[at["error"]], values[at["done_at"]] = "PREPARED", "", None
                    fresh.append(tuple(values))
            await sql.bulk("edr", EDR_COLUMNS, fresh)
            total += len(fresh)
    return total


async def _claim(floor: int) -> Sequence[Mapping[str, Any]]:
    """Claim the next ready batch of the floor campaign: its EDRs (id, sender, destination, text), now BILLED."""
    async with _statements() as sql:
        now = datetime.now(UTC)
        if sql.sqlite:
            batch = await sql.column(
                "UPDATE campaign_batch SET state = 'submitting', worker = 'floor', claimed_at = $2 WHERE id ="
                " (SELECT id FROM campaign_batch WHERE campaign = $1 AND state = 'ready' ORDER BY id LIMIT 1)"
                " RETURNING id",
                floor,
                now,
            )
            if not batch:
                return []
            return await sql.rows(
                "UPDATE edr SET status = 'BILLED' WHERE campaign = $1 AND batch = $2 AND status = 'PREPARED'"
                " RETURNING id, batch, sender, destination, text",
                floor,
                batch[0],
            )
        # One statement: the batch turns submitting and its EDRs billed together, as the engine's claim commits them.
        return await sql.rows(
            "WITH claimed AS (UPDATE campaign_batch SET state = 'submitting', worker = 'floor', claimed_at = $2"
            " WHERE id = (SELECT id FROM campaign_batch WHERE campaign = $1 AND state = 'ready' ORDER BY id LIMIT 1"
            " FOR UPDATE SKIP LOCKED) AND state = 'ready' RETURNING id)"
            " UPDATE edr SET status = 'BILLED' FROM claimed WHERE edr.campaign = $1 AND edr.batch = claimed.id"
            " AND edr.status = 'PREPARED' RETURNING edr.id, edr.batch, edr.sender, edr.destination, edr.text",
            floor,
            now,
        )


async def _write(batch: int, edr_ids: list[int], vendor_ids: list[str], connection: int) -> None:
    """The batch's outcomes in one statement (SENT, vendor id, connection, sent_at), and the batch done."""
    now = datetime.now(UTC)
    async with _statements() as sql:
        if sql.sqlite:
            rows = ", ".join(f"(${n}, ${n + 1})" for n in range(3, 3 + 2 * len(edr_ids), 2))
            await sql.execute(
                "UPDATE edr SET status = 'SENT', vendor_message_id = v.column2, connection = $1, sent_at = $2"
                f" FROM (VALUES {rows}) AS v WHERE edr.id = v.column1 AND edr.status = 'BILLED'",
                connection,
                now,
                *(value for pair in zip(edr_ids, vendor_ids, strict=True) for value in pair),
            )
            await sql.execute("UPDATE campaign_batch SET state = 'done' WHERE id = $1", batch)
            return
        await sql.execute(
            "WITH done AS (UPDATE campaign_batch SET state = 'done' WHERE id = $1)"
            " UPDATE edr SET status = 'SENT', vendor_message_id = v.vendor_id, connection = $2, sent_at = $3"
            " FROM unnest($4::bigint[], $5::text[]) AS v(id, vendor_id) WHERE edr.id = v.id AND edr.status = 'BILLED'",
            batch,
            connection,
            now,
            edr_ids,
            vendor_ids,
        )


class _Encoder:
    """submit_sm bodies of EDR rows; a text is encoded once, as every EDR of a campaign without variables shares it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.payloads: dict[str, tuple[int, bytes]] = {}

    def bodies(self, rows: Sequence[Mapping[str, Any]]) -> list[bytes]:
        out = []
        for row in rows:
            text = row["text"] or self.text
            if text not in self.payloads:
                ucs2, parts = encoding.split(text, 0)
                if len(parts) != 1:
                    raise ValueError("the floor submits single-part texts only, as the benchmark's campaign has")
                self.payloads[text] = (encoding.data_coding(ucs2, False), parts[0])
            coding, payload = self.payloads[text]
            ton, npi, source = encoding.address_ton_npi(row["sender"])
            destination = row["destination"].removeprefix("+").encode("ascii", "replace")
            out.append(pdu.submit_sm_body(ton, npi, source.encode("ascii", "replace"), destination, 0, coding, payload))
        return out


async def _send_loop(floor: int, binds: list[_Bind], encoder: _Encoder, connection: int) -> int:
    """Claim, submit and write batches until none is ready; messages sent."""
    sent = 0
    while rows := await _claim(floor):
        bodies = encoder.bodies(rows)
        # Contiguous slices, one per bind, as SmsChannel.send_batch spreads a batch over equal connections.
        share = -(-len(rows) // len(binds))
        pieces = [
            bind.submit(bodies[n * share : (n + 1) * share]) for n, bind in enumerate(binds) if n * share < len(rows)
        ]
        vendor_ids = [vendor_id for piece in await asyncio.gather(*pieces) for vendor_id in piece]
        if "" in vendor_ids:
            raise RuntimeError("the stand-in refused a submit_sm; the floor expects every message accepted")
        await _write(rows[0]["batch"], [r["id"] for r in rows], vendor_ids, connection)
        sent += len(rows)
    return sent


async def run_floor(campaign_id: int) -> float:
    """Seed the floor from the finished campaign ``campaign_id``, send it as described above; messages per second.

    The database pool must be open (core.db.open_pool) and the stand-in SMSC up.
    """
    from core.db import engine, is_sqlite, json_value, write_transaction
    from core.dispatch.queueing import SENDERS_PER_CAMPAIGN
    from core.rawsql import RawSql

    floor = -campaign_id  # no serial hands out a negative id: no campaign of the run shares these rows
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        campaign = (await sql.rows("SELECT text FROM campaign WHERE id = $1", campaign_id))[0]
        connections = await sql.rows(
            "SELECT id, settings FROM vendor_connection WHERE channel = 'sms' AND enabled ORDER BY id"
        )
    settings = [json_value(c["settings"]) for c in connections]
    # SmsChannel records the lowest id among binds to one SMSC account on every result: the floor writes the same.
    connection = connections[0]["id"]
    messages = await seed(campaign_id, floor)
    if not is_sqlite():
        await engine().run_ddl("ANALYZE edr, campaign_batch")  # the claim's plan, as autovacuum would have it
    binds = [await _bind(s) for s in settings]
    encoder = _Encoder(campaign["text"])
    try:
        started = time.perf_counter()
        sent = await asyncio.gather(
            *(_send_loop(floor, binds, encoder, connection) for _ in range(SENDERS_PER_CAMPAIGN))
        )
        elapsed = time.perf_counter() - started
    finally:
        for bind in binds:
            if bind.transport is not None:
                bind.transport.close()
    if sum(sent) != messages:
        raise RuntimeError(f"the floor sent {sum(sent)} of {messages} messages")
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        written = await sql.column(
            "SELECT COUNT(*) FROM edr WHERE campaign = $1 AND status = 'SENT' AND vendor_message_id IS NOT NULL", floor
        )
        if written[0] != messages:
            raise RuntimeError(f"the floor wrote {written[0]} outcomes for {messages} messages")
        await sql.execute("DELETE FROM edr WHERE campaign = $1", floor)
        await sql.execute("DELETE FROM campaign_batch WHERE campaign = $1", floor)
    return messages / elapsed
