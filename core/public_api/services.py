"""Accepting /api/send_sms (API-2): check, price and pay for the messages, write their EDRs, enqueue one send job.

The same rules as campaigns, from the same functions: numbers are normalised by ``numbering``, stop-listed pairs
are refused by ``contacts.stoplist``, senders must be enabled for the channel, and each message is priced by
``dispatch.expansion.price_message``. The request returns once the EDRs and their charge are committed together;
one job per request then hands them to the channel in batches (``core.public_api.delivery``).

A message listing several channels (a cascade) is sent on the first; its EDRs get an ``api_cascade`` row each, and
``core.public_api.cascade`` hands those the first channel did not reach to the next one through ``resolve`` and
``accept`` below, the same pricing and paying as a new request's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from redis.exceptions import LockError

from core.actor import Actor
from core.billing.pack_units import HeldUnits, held_units
from core.billing.pricing import Level, PriceList, charged_levels, price_list
from core.billing.services import change_balance
from core.billing.tables import LedgerEntry
from core.campaigns.services import partner_options
from core.contacts.stoplist import blocked
from core.db import is_sqlite, write_transaction
from core.dispatch import callbacks, money, packs
from core.dispatch.chain import NO_RATE, write_charges
from core.dispatch.expansion import EDR_COLUMNS, Priced, price_message
from core.dispatch.queueing import HEARTBEAT_S
from core.errors import PortalError
from core.money import from_micros
from core.numbering.normalise import InvalidNumber, normalise
from core.numbering.services import prefix_index
from core.portal import Portal
from core.providers import ChannelProvider
from core.public_api.checks import BadParameter, Message, Request
from core.public_api.schemas import SendSmsOut
from core.public_api.vendor_templates import choose_templates
from core.rawsql import RawSql
from core.senders.services import usable
from core.senders.tables import Sender
from core.tenancy.schemas import PartnerOptions
from core.tenancy.scope import owned
from core.tenancy.tables import Partner

MAX_RECIPIENTS = 700
API_EDR_COLUMNS = (*EDR_COLUMNS, "api_key", "client_ref", "pack")  # the order of _edr's tuples
SEND_TASK = "send_api_request"
MO_OFF = "Partner's MO messages mode is off!"
STOP_LISTED = "Stop-listed: the recipient blocked this sender ID"
LEDGER_LOCK_S = 10
# The ledger kinds of messages without a campaign, and the title their daily rows are described by (BIL-7).
LEDGER_TITLES = {"api": "API", "reply": "Reply to MO"}
LEDGER_MEMORY_S = 26 * 3600
# A level above the sender cannot pay: as neutral as a campaign's "Paused by your provider".
BY_PROVIDER_API = "Your provider cannot accept messages at the moment; nothing was sent"


class InsufficientFunds(PortalError):
    """The balance does not cover the accepted messages; nothing was written (402)."""

    status_code = 402


@dataclass
class Line:
    """One distinct recipient: its outcome, and when accepted, the EDR to write."""

    number: str  # normalised; as the caller wrote it when it is not a valid number
    message: Message
    error: str = ""
    priced: Priced | None = None
    transaction_id: str = ""
    on_delivery: bool = False  # the plan bills By Delivered: paid back when the message ends undelivered
    levels: list[tuple[int, int]] = field(default_factory=list)  # (level partner, price) above the sender
    pack: int | None = None  # the held pack that pays for it (BIL-4), taken when it is accepted
    level_packs: dict[int, int] = field(default_factory=dict)  # level partner → its pack that pays its charge


@dataclass
class Channel:
    provider: ChannelProvider | None
    prices: PriceList | None
    unavailable: str = ""
    parts: dict[str, int] = field(default_factory=dict)
    levels: list[Level] = field(default_factory=list)  # the charged levels above the sender (chain charging)
    held: HeldUnits | None = None  # the sender's packs on the channel: what they could pay for


async def _channel(portal: Portal, partner_id: int, name: str, allowed: list[str], now: datetime) -> Channel:
    provider = portal.registries.channels.get(name)
    if provider is None:
        return Channel(None, None, f"The {name} channel is not available")
    if allowed and name not in allowed:
        return Channel(None, None, f"Your company may not send on {provider.label}; ask your provider")
    # Independent reads on their own pool connections at once: a request waits for the slowest, not for their sum.
    connected, levels, held, prices = await asyncio.gather(
        portal.vendor_connections(name),
        charged_levels(partner_id, name, now, now),
        held_units(partner_id, name, now),
        price_list(partner_id, name, now),
    )
    if not connected:
        return Channel(None, None, f"The {provider.label} channel is not available yet: it has no vendor connection")
    return Channel(provider, prices, levels=levels, held=held)


async def _sender_id(actor: Actor, channel: str, name: str) -> int | None:
    """The company's usable sender ID of this name on the channel."""
    row = (
        await Sender.select(Sender.id)
        .where(owned(Sender, actor) & (Sender.channel == channel) & (Sender.name == name))
        .where(usable())
        .first()
    )
    return row["id"] if row else None


def _recipients(request: Request) -> list[Line]:
    """Every distinct recipient (the first 700), in request order, its number normalised or refused."""
    lines: list[Line] = []
    seen: set[str] = set()
    for message in request.messages:
        for raw in message.numbers:
            try:
                number, error = normalise(raw), ""
            except InvalidNumber as exc:
                number, error = raw, f"Invalid number: {exc}"
            if number in seen:
                continue
            seen.add(number)
            lines.append(Line(number, message, error))
            if len(lines) == MAX_RECIPIENTS:
                return lines
    return lines


async def _lines(portal: Portal, actor: Actor, request: Request, options: PartnerOptions, now: datetime) -> list[Line]:
    """Every distinct recipient (the first 700) with its outcome, in request order."""
    lines = _recipients(request)
    await resolve(portal, actor, lines, options, now)
    return lines


async def resolve(portal: Portal, actor: Actor, lines: list[Line], options: PartnerOptions, now: datetime) -> None:
    """Give each line without an error its price on its message's channel, or the reason it cannot be sent.

    Shared by new requests and a cascade's next attempts (``core.public_api.cascade``). A cascade's further channels
    must be open to the company and have the sender ID enabled too, so a request learns of them at once.
    """
    messages = list({id(ln.message): ln.message for ln in lines}.values())
    wanted = sorted({m.channel for m in messages} | {c for m in messages for c in m.fallback})
    pairs = sorted({(m.channel, m.sender) for m in messages} | {(c, m.sender) for m in messages for c in m.fallback})
    opened, ids, index = await asyncio.gather(
        asyncio.gather(*(_channel(portal, actor.partner_id, name, options.channels, now) for name in wanted)),
        asyncio.gather(*(_sender_id(actor, channel, sender) for channel, sender in pairs)),
        prefix_index(),
    )
    channels = dict(zip(wanted, opened, strict=True))
    senders: dict[tuple[str, str], int | None] = dict(zip(pairs, ids, strict=True))
    stopped: dict[int, set[str]] = {}
    for channel, sender in {(ln.message.channel, ln.message.sender) for ln in lines}:
        sender_id = senders[channel, sender]
        if sender_id is not None:
            numbers = [
                ln.number
                for ln in lines
                if not ln.error and (ln.message.channel, ln.message.sender) == (channel, sender)
            ]
            stopped[sender_id] = await blocked(actor.partner_id, sender_id, numbers)
    refusals: dict[int, str] = {}  # id(message) → why none of its recipients can be sent to ("" when they can)
    for line in lines:
        if line.error:
            continue
        m = line.message
        refusal = refusals.get(id(m))
        if refusal is None:
            refusal = refusals[id(m)] = _refusal(m, channels, senders)
        found = channels[m.channel]
        if refusal:
            line.error = refusal
        elif line.number in stopped[senders[m.channel, m.sender] or 0]:
            line.error = STOP_LISTED
        else:
            if m.text not in found.parts and found.provider is not None:
                found.parts[m.text] = found.provider.segments(m.text)
            priced = price_message(
                index, found.prices, found.provider, m.channel, line.number, m.text, found.parts.get(m.text), found.held
            )
            line.error, line.priced = priced.error, priced
            line.on_delivery = found.prices is not None and found.prices.mode == "delivered"
            if not line.error and found.levels:
                assert priced.dest is not None
                for level in found.levels:
                    if not level.charges(priced.dest):
                        continue  # a level without a plan whose packs do not cover the destination
                    rate = level.price(priced.dest)
                    if rate is None:
                        # A level above has no rate there: the message fails like one the sender has no rate for.
                        line.error, line.levels = NO_RATE, []
                        break
                    line.levels.append((level.partner_id, rate * priced.parts))


def _refusal(m: Message, channels: dict[str, Channel], senders: dict[tuple[str, str], int | None]) -> str:
    """Why no recipient of the message can be sent to (its channels and sender ID), or ""; once per message."""
    found = channels[m.channel]
    later = [channels[c] for c in m.fallback if channels[c].unavailable]
    unknown_sender = [channels[c] for c in m.fallback if senders[c, m.sender] is None]
    if found.unavailable:
        return found.unavailable
    if m.flash and found.provider is not None and not found.provider.capabilities.flash:
        return f"Flash messages are not available on {found.provider.label}"
    if senders[m.channel, m.sender] is None:
        return f"For message: can't validate sender {m.sender}"
    if later:
        return later[0].unavailable
    if unknown_sender and unknown_sender[0].provider is not None:
        return f"For message: can't validate sender {m.sender} on {unknown_sender[0].provider.label}"
    return ""


async def _ledger_entry(
    portal: Portal,
    actor: Actor,
    channel: str,
    label: str,
    day: date,
    kind: str = "api",
    *,
    level: int | None = None,
) -> int:
    """The partner's "API" (or "Reply to MO") ledger row of this channel, day and label (BIL-7), made on first use.

    With ``level`` (a partner above the sender), that level's row of the channel and day (no label): what its
    clients' API messages cost it. Made under a Redis lock so that two first requests of the day at once share one
    row.
    """
    partner_id = actor.partner_id if level is None else level
    description = f"{LEDGER_TITLES[kind]} · {channel.upper()} · {day.isoformat()}" + (f" · {label}" if label else "")
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    remembered = f"api:ledger-id:{partner_id}:{description}"
    known = await portal.redis.get(remembered)
    if known is not None:
        return int(known)
    # A token lock (redis-py's): released only by its holder, so a waiter that gave up never frees another's lock.
    lock = portal.redis.lock(
        f"api:ledger:{partner_id}:{description}",
        timeout=LEDGER_LOCK_S,
        sleep=0.01,
        blocking_timeout=LEDGER_LOCK_S,
    )
    held = await lock.acquire()  # False: a holder that died; its lock lapses about now
    try:
        row = (
            await LedgerEntry.select(LedgerEntry.id)
            .where(
                (LedgerEntry.partner == partner_id)
                & (LedgerEntry.kind == kind)
                & (LedgerEntry.description == description)
                & (LedgerEntry.created_at >= start)
            )
            .first()
        )
        if row is not None:
            entry_id = int(row["id"])
        else:
            async with write_transaction():
                details: dict[str, Any] = {"channel": channel, "label": label, "day": day.isoformat()}
                entry_id = await change_balance(
                    partner_id,
                    0,
                    kind=kind,
                    description=description,
                    initiator=actor if actor.user_id and level is None else None,  # an auto-reply has no user behind it
                    details=details,
                )
        # Remembered for the day (the row's key holds its date), sparing every later request the lock and query.
        await portal.redis.set(remembered, entry_id, ex=LEDGER_MEMORY_S)
        return entry_id
    finally:
        if held:
            with contextlib.suppress(LockError):  # held past its timeout: another may hold it now
                await lock.release()


def _result(line: Line) -> str:
    # No space after the colon: the guide's sample clients split on it and match the rest against a UUID.
    return f"{line.number}:{line.error or line.transaction_id}"


async def send(portal: Portal, actor: Actor, key_id: int, request: Request, *, kind: str = "api") -> SendSmsOut:
    """Accept the request's messages: EDRs written and paid in one transaction, one send job enqueued.

    ``kind`` is the ledger kind they are booked as: "api", or "reply" for auto-replies (key 0).
    """
    now = datetime.now(UTC)
    options = await partner_options(actor.partner_id)
    if request.accept_mo and not options.mo_enabled:
        raise BadParameter(MO_OFF, field="acceptMO")
    if not options.flash_sms and any(m.flash for m in request.messages):
        raise BadParameter("Your company may not send flash messages; ask your provider", field="isFlashed")
    await choose_templates(portal, actor, request)
    lines = await _lines(portal, actor, request, options, now)
    good = [ln for ln in lines if not ln.error and ln.priced is not None]
    if request.dry_run:
        partner = await Partner.select(Partner.currency).where(Partner.id == actor.partner_id).first()
        return _dry_run(lines, good, partner["currency"] if partner else "")
    if not good:
        return SendSmsOut(results=[_result(ln) for ln in lines])
    books = await ledgers_for(portal, actor, good, now, kind)
    job = new_job()
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        await accept(sql, actor, key_id, job, good, books, now)
    await enqueue_send(portal, job)
    return SendSmsOut(results=[_result(ln) for ln in lines])


@dataclass
class Books:
    """The ledger rows accepted lines are booked on: the sender's per (channel, label), each level's per channel."""

    own: dict[tuple[str, str], int]
    levels: dict[tuple[str, int], int]


async def ledgers_for(portal: Portal, actor: Actor, good: list[Line], now: datetime, kind: str = "api") -> Books:
    """The ledger rows of the accepted lines, made on first use (each under its own lock, outside any transaction)."""
    books = Books({}, {})
    for line in good:
        slot = (line.message.channel, line.message.label)
        if slot not in books.own:
            books.own[slot] = await _ledger_entry(portal, actor, *slot, now.date(), kind)
        for level, _ in line.levels:
            if (line.message.channel, level) not in books.levels:
                books.levels[line.message.channel, level] = await _ledger_entry(
                    portal, actor, line.message.channel, "", now.date(), kind, level=level
                )
    return books


def new_job() -> str:
    """The key of a new send job (one per HTTP request, or per cascade hand-over of a partner's key)."""
    return "api:" + transaction_ids(1)[0]


async def accept(
    sql: RawSql, actor: Actor, key_id: int, job: str, good: list[Line], books: Books, now: datetime
) -> list[Line]:
    """Write and pay the accepted lines inside the caller's transaction: one api_request row per label and flash
    setting (a label has its own ledger rows). Lines that come with a transaction id (a cascade's next attempt) keep
    it; the others get a new one. The sender's packs pay first (BIL-4); the lines that only a pack could pay for,
    whose packs ran out since they were priced, are refused here ("No rate for destination") and returned.

    Raises:
        InsufficientFunds: the balance does not cover them (the caller's transaction must roll back).
    """
    refused = await _take_packs(sql, actor.partner_id, good, now)
    parts: dict[tuple[str, bool, str], list[Line]] = defaultdict(list)
    for line in (ln for ln in good if not ln.error):
        m = line.message
        parts[m.label, m.flash, json.dumps(m.content, sort_keys=True) if m.content else "{}"].append(line)
    for (label, flash, content), members in parts.items():
        await _accept_part(sql, actor, key_id, job, (label, flash, content), members, books.own, books.levels, now)
    return refused


async def _take_packs(sql: RawSql, partner_id: int, good: list[Line], now: datetime) -> list[Line]:
    """Take units from the packs of the sender and of its levels for the lines they cover, before any balance moves
    (the engine's lock order, ``core.dispatch.packs``); the lines refused for want of units."""
    refused: list[Line] = []
    for channel in sorted({ln.message.channel for ln in good}):
        lines = [ln for ln in good if ln.message.channel == channel]
        wants = []
        for line in lines:
            priced = line.priced
            assert priced is not None and priced.dest is not None
            dest = priced.dest
            levels = [level for level, _ in line.levels]
            wants.append(
                packs.Want(dest.country_iso, dest.mcc + dest.mnc, priced.parts, priced.rate is not None, levels)
            )
        await packs.spend(sql, partner_id, channel, wants, now)
        for line, want in zip(lines, wants, strict=True):
            assert line.priced is not None
            if want.own is not None:
                line.pack, line.on_delivery = want.own[0], want.own[1] == "delivered"
                line.priced = line.priced._replace(price=0)
            elif want.unpaid:
                line.error = NO_RATE
                refused.append(line)
            line.level_packs = want.level_packs
    return refused


async def enqueue_send(portal: Portal, job: str) -> None:
    """The send job of one accepted HTTP request; saq drops it while one of that key is queued or running."""
    await portal.send_queue.enqueue(
        SEND_TASK, job=job, key=job, timeout=0, heartbeat=HEARTBEAT_S, retries=5, retry_delay=1.0, retry_backoff=True
    )


async def _accept_part(
    sql: RawSql,
    actor: Actor,
    key_id: int,
    job: str,
    part: tuple[str, bool, str],
    lines: list[Line],
    ledgers: dict[tuple[str, str], int],
    level_ledgers: dict[tuple[str, int], int],
    now: datetime,
) -> int:
    """Write one api_request row with its EDRs and take their price from the balance; its id. ``part``: the
    lines' label, flash setting and content (JSON), which the row keeps.

    Raises:
        InsufficientFunds: the balance does not cover them (the caller's transaction rolls everything back).
    """
    label, flash, content = part
    totals: dict[str, int] = defaultdict(int)
    charges: dict[str, list[tuple[int, int, int]]] = {}
    for line in lines:
        assert line.priced is not None
        totals[line.message.channel] += line.priced.price
    request_id = (
        await sql.column(
            "INSERT INTO api_request (partner, api_key, label, flash, ledgers, messages, state, created_at, job,"
            " content) VALUES ($1, $2, $3, $4, $5, $6, 'accepted', $7, $8, $9) RETURNING id",
            actor.partner_id,
            key_id,
            label,
            flash,
            json.dumps({channel: ledgers[channel, label] for channel in totals}),
            len(lines),
            now,
            job,
            content,
        )
    )[0]
    rows = []
    fresh = iter(transaction_ids(sum(1 for ln in lines if not ln.transaction_id)))
    for line in lines:
        transaction_id = line.transaction_id = line.transaction_id or next(fresh)
        rows.append(_edr(actor.partner_id, key_id, request_id, line, now))
        if line.levels:
            charges[transaction_id] = [
                (level, level_ledgers[line.message.channel, level], price) for level, price in line.levels
            ]
    moves = [(actor.partner_id, ledgers[channel, label], -total) for channel, total in totals.items()]
    # A level's charge its own pack pays for moves no money (its row names the pack, as in a campaign's claim).
    moves += [
        (level, ledger, -price)
        for line in lines
        for level, ledger, price in charges.get(line.transaction_id, ())
        if level not in line.level_packs
    ]
    try:
        # The sender and every level above it in one transaction, in the one lock order; all or nothing (402).
        await money.move_all(sql, moves)
    except money.InsufficientBalance as short:
        if short.partner_id != actor.partner_id:
            raise InsufficientFunds(BY_PROVIDER_API, field="balance") from None
        raise InsufficientFunds(
            "Insufficient balance: top up to send these messages; nothing was sent", field="balance"
        ) from None
    # Finance's "Messages from packs" of the day's API rows, the sender's and each level's (after the balances).
    from_packs: dict[int, int] = defaultdict(int)
    for line in lines:
        assert line.priced is not None
        if line.pack is not None:
            from_packs[ledgers[line.message.channel, label]] += line.priced.parts
        for level in line.level_packs:
            from_packs[level_ledgers[line.message.channel, level]] += line.priced.parts
    await packs.count_on_ledgers(sql, from_packs)
    await sql.bulk("edr", API_EDR_COLUMNS, rows)
    cascading = [ln for ln in lines if ln.message.fallback]
    if charges or cascading:
        ids = {
            r["transaction_id"]: r["id"]
            for r in await sql.rows(
                "SELECT id, transaction_id FROM edr WHERE campaign IS NULL AND batch = $1", request_id
            )
        }
        if charges:
            await write_charges(sql, ids, charges)
            await packs.mark_level_packs(
                sql, [(ids[ln.transaction_id], ln.level_packs) for ln in lines if ln.level_packs]
            )
        if cascading:
            await sql.bulk(
                "api_cascade", CASCADE_COLUMNS, [_waiting(ids, actor.partner_id, ln, now) for ln in cascading]
            )
    answered = [(ln.message.channel, ln.message.sender, ln.number) for ln in lines if ln.message.accept_mo]
    if answered:
        await callbacks.expect_mo(sql, actor.partner_id, key_id, answered, now)
    return int(request_id)


CASCADE_COLUMNS = ("edr", "partner", "channels", "ttl", "label", "accept_mo", "created_at")


def _waiting(ids: dict[str, int], partner_id: int, line: Line, now: datetime) -> tuple[Any, ...]:
    """The api_cascade row of an attempt whose cascade has further channels, in CASCADE_COLUMNS order."""
    m = line.message
    return (ids[line.transaction_id], partner_id, ",".join(m.fallback), m.ttl, m.label, m.accept_mo, now)


def _edr(partner_id: int, key_id: int, request_id: int, line: Line, now: datetime) -> tuple[Any, ...]:
    """One EDR row in API_EDR_COLUMNS order (a tuple built directly: 700 of them per request)."""
    priced = line.priced
    assert priced is not None and priced.dest is not None
    dest, message = priced.dest, line.message
    return (
        partner_id,
        None,  # campaign
        request_id,  # batch: the api_request row
        line.transaction_id,
        message.channel,
        message.sender,
        line.number,
        message.text,
        priced.parts,
        dest.country_iso,
        dest.country,
        dest.mcc + dest.mnc,
        dest.network,
        priced.rate,
        priced.price,
        line.on_delivery,  # paid when accepted either way; By Delivered pays back what ends undelivered
        "BILLED",
        "",  # error
        now,  # created_at
        None,  # done_at
        key_id,
        message.client_ref,
        line.pack,
    )


def transaction_ids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as text; one urandom call, no UUID object per message."""
    raw = bytearray(os.urandom(16 * count))
    for start in range(0, len(raw), 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80
    h = raw.hex()  # once for all: 32 hex digits per id
    return [
        f"{h[s : s + 8]}-{h[s + 8 : s + 12]}-{h[s + 12 : s + 16]}-{h[s + 16 : s + 20]}-{h[s + 20 : s + 32]}"
        for s in range(0, len(h), 32)
    ]


def _dry_run(lines: list[Line], good: list[Line], currency: str) -> SendSmsOut:
    """What would be sent and what it would cost; nothing is written."""
    total = sum(ln.priced.price for ln in good if ln.priced is not None)
    results = [
        f"{ln.number}:OK {from_micros(ln.priced.price)} {currency}"
        if not ln.error and ln.priced is not None
        else _result(ln)
        for ln in lines
    ]
    return SendSmsOut(
        results=results, dry_run=True, price=str(from_micros(total)), currency=currency, messages=len(good)
    )
