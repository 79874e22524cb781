"""Expansion (DSP-1): a campaign's recipients become EDRs, chunk by chunk, each chunk one transaction.

Recipients come from contact groups (or all contacts) and from typed/uploaded numbers, in id order per
source, so the checkpoint on the campaign row lets a restarted job resume where the last commit left off.
Duplicates are dropped with an in-memory set (rebuilt from the EDRs on resume), stop-listed contacts are
counted and skipped, and each message is resolved to its network and price in Python — a dict lookup per
number — before the chunk is written with COPY. Batches of ≤ 500 ready EDRs become claimable at commit,
so sending starts after the first chunk, not after the whole list. Under quiet hours a batch holds recipients
of one time zone only (core.dispatch.quiet_hours).
"""

# ruff: noqa: S608 — the statements interpolate only integers (group ids read from our own row) and fixed words.

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from core.billing.pack_units import HeldUnits, held_units
from core.billing.pricing import PriceList, charged_levels, price_list
from core.campaigns.rendering import contact_values, render, variables_in, with_short_link
from core.campaigns.tables import Campaign
from core.db import is_sqlite, json_value, write_transaction
from core.dispatch.chain import NO_RATE, Charged, campaign_ledgers, write_charges
from core.dispatch.tables import Edr
from core.numbering.services import Destination, PrefixIndex, prefix_index
from core.numbering.zones import zone_of
from core.portal import Portal
from core.providers import ChannelProvider, LinkRecipient, Shortener, active_shortener
from core.rawsql import RawSql

log = logging.getLogger(__name__)

CHUNK = 5_000
BATCH = 500
EDR_COLUMNS = (
    "partner",
    "campaign",
    "batch",
    "transaction_id",
    "channel",
    "sender",
    "destination",
    "text",
    "parts",
    "country_iso",
    "country",
    "mccmnc",
    "network",
    "rate",
    "price",
    "charge_on_delivery",
    "status",
    "error",
    "created_at",
    "done_at",
)
BATCH_AT, STATUS_AT = EDR_COLUMNS.index("batch"), EDR_COLUMNS.index("status")
DESTINATION_AT = EDR_COLUMNS.index("destination")
CONTACT_SELECT = "c.first_name, c.last_name, c.birth_date, c.gender, c.comments, c.custom"


def stopped(sender: str) -> str:
    """SQL: the contact ``c`` stopped messages from the sender ID given as the parameter ``sender`` (or from all)."""
    return (
        f"(c.blocked_all OR EXISTS (SELECT 1 FROM contact_block AS b WHERE b.contact = c.id AND b.sender = {sender}))"
    )


class Priced(NamedTuple):
    """A message resolved to its network and price, or the reason it cannot be sent (then it costs nothing)."""

    dest: Destination | None
    rate: int | None
    parts: int
    price: int
    error: str


def price_message(
    index: PrefixIndex,
    prices: PriceList | None,
    provider: ChannelProvider | None,
    channel: str,
    phone: str,
    text: str,
    parts: int | None = None,
    held: HeldUnits | None = None,
) -> Priced:
    """Resolve one normalised number to its network and price (NUM-3, BIL-4): what campaigns and the API share.

    ``parts`` may be given when the text is the same for many messages, so it is counted once. ``held``: the sender's
    packs; a message one of them covers can go without a plan rate (its rate stays None, and the claim takes the
    units, or fails it then if the packs ran out meanwhile).
    """
    if parts is None:
        parts = provider.segments(text) if provider else 0
    parts = max(parts, 1)
    dest = index.resolve(phone)
    rate = prices.price(dest) if prices is not None and dest is not None else None
    error = ""
    if provider is None:
        error = f"The {channel} channel is not available"
    elif prices is None:
        error = f"No rate plan for {channel}"
    elif dest is None:
        error = "Unknown destination: no country matches this number"
    elif rate is None:
        error = "No rate for destination"
    if (
        error
        and dest is not None
        and provider is not None
        and held
        and held.covers(dest.country_iso, dest.mcc + dest.mnc)
    ):
        error = ""
    return Priced(dest, rate, parts, 0 if error else (rate or 0) * parts, error)


class Superseded(Exception):
    """Another job moved the campaign's expansion checkpoint: this one stops, its chunk undone."""


class Expander:
    """One campaign's expansion state while the job runs."""

    def __init__(
        self,
        portal: Portal,
        campaign: dict[str, Any],
        index: PrefixIndex,
        prices: PriceList | None,
        charged: Charged | None = None,
        held: HeldUnits | None = None,
    ):
        self.portal = portal
        self.held = held
        self.charged = charged or Charged([], {})
        self.level_charges: dict[str, list[tuple[int, int, int]]] = {}
        self.campaign = campaign
        self.index = index
        self.prices = prices
        self.provider = portal.registries.channels.get(campaign["channel"])
        self.text: str = campaign["text"]
        self.personal = bool(variables_in(self.text))
        content = json_value(campaign["content"]) or {}
        self.short_url: str = content.get("short_url", "")
        self.short_domain: str = content.get("short_domain", "")
        self.shortener: Shortener | None = None
        counted = self.text
        if self.short_url:
            self.shortener = active_shortener(portal.registries.shorteners)
            if self.shortener is not None:
                # Every recipient's link has the same length, so the sample counts segments for all of them.
                counted = with_short_link(self.text, self.short_url, self.shortener.preview(self.short_domain))
        self.fixed_parts = self.provider.segments(counted) if self.provider and not self.personal else 0
        self.seen: set[str] = set()
        self.mark: str = ""  # the checkpoint as stored, which the next chunk must find unchanged
        # Under a throughput limit a batch is about a second of traffic, so the paced slots stay short and even.
        self.batch_size = min(BATCH, campaign["rate_limit"]) if campaign["rate_limit"] else BATCH

    def _sources(self) -> list[tuple[str, str]]:
        c = self.campaign
        stop = stopped("$3")
        sources = []
        if c["all_contacts"] or json_value(c["group_ids"]):
            groups = ", ".join(str(int(g)) for g in json_value(c["group_ids"]) or [])
            member = ""
            if not c["all_contacts"]:
                member = (
                    " AND EXISTS (SELECT 1 FROM contact_group_member AS m"
                    f' WHERE m.contact = c.id AND m."group" IN ({groups}))'
                )
            sources.append(
                (
                    "groups",
                    f"SELECT c.id, c.phone, {CONTACT_SELECT}, {stop} AS blocked, NULL AS own_text, NULL AS own_fields"
                    " FROM contact AS c"
                    f" WHERE c.partner = $1 AND c.id > $2{member} ORDER BY c.id LIMIT {CHUNK}",
                )
            )
        sources.append(
            (
                "numbers",
                f"SELECT n.id, n.phone, {CONTACT_SELECT}, COALESCE({stop}, FALSE) AS blocked,"
                " n.text AS own_text, n.fields AS own_fields FROM campaign_number AS n"
                " LEFT JOIN contact AS c ON c.partner = $1 AND c.phone = n.phone"
                f" WHERE n.campaign = $4 AND n.id > $2 ORDER BY n.id LIMIT {CHUNK}",
            )
        )
        return sources

    def _edr(self, row: Mapping[str, Any], now: datetime, short_url: str | None = None) -> tuple[Any, ...]:
        """One EDR row; its batch is filled in once the chunk's batches exist (failed ones have none).

        ``short_url``: the recipient's own short link, put in place of the campaign's shortened link.
        """
        c = self.campaign
        phone = row["phone"]
        text = None
        # A row of a campaign file (CMP-6) may bring its own text and variables: its message is its own.
        own_text, own_fields = row["own_text"], row["own_fields"]
        personal = self.personal or own_text is not None or own_fields is not None
        if personal:
            values = contact_values(row, phone) | (json_value(own_fields) or {})
            text = render(own_text or self.text, values)
        if short_url is not None:
            text = with_short_link(self.text if text is None else text, self.short_url, short_url)
        body = self.text if text is None else text
        fixed = None if personal else self.fixed_parts
        priced = price_message(self.index, self.prices, self.provider, c["channel"], phone, body, fixed, self.held)
        dest, rate, parts, error = priced.dest, priced.rate, priced.parts, priced.error
        price = priced.price
        if not error and self.charged.levels:
            levels = self.charged.prices(dest, parts)
            if levels is None:
                # A level above has no rate there: the message fails like one the sender has no rate for.
                error, price = NO_RATE, 0
            else:
                self.level_charges[phone] = levels
        status = "FAILED" if error else "PREPARED"
        return (
            c["partner"],
            c["id"],
            None,
            # One message per recipient and campaign: the pair is the transaction, shared by a cascade's steps.
            f"c{c['root_id'] or c['id']}:{phone}",
            c["channel"],
            c["sender_name"],
            phone,
            text,
            parts,
            dest.country_iso if dest else "",
            dest.country if dest else "",
            (dest.mcc + dest.mnc) if dest else "",
            dest.network if dest else "",
            rate,
            price,
            c["billing_mode"] == "delivered",
            status,
            error,
            now,
            now if error else None,
        )

    def _zoned(self, edrs: list[tuple[Any, ...]]) -> list[tuple[str, list[int]]]:
        """The ready EDRs' places, by recipient time zone when the campaign has quiet hours (one zone per batch,
        so a claim can pick the batches whose window is open), else all in one group."""
        ready = [n for n, e in enumerate(edrs) if e[STATUS_AT] == "PREPARED"]
        if self.campaign["window_from"] is None:
            return [("", ready)]
        zones: dict[str, list[int]] = {}
        for n in ready:
            zones.setdefault(zone_of(edrs[n][DESTINATION_AT]), []).append(n)
        return list(zones.items())

    async def chunk(self, sql: RawSql, source: str, query: str, after: int) -> tuple[int, bool]:
        """Write one chunk of one source; (last id read, whether the source has more)."""
        c = self.campaign
        args = [c["partner"], after, c["sender_id"]] + ([c["id"]] if source == "numbers" else [])
        rows = await sql.rows(query, *args)
        if not rows:
            return after, False
        await self.write(sql, source, rows)
        return rows[-1]["id"], len(rows) == CHUNK

    async def write(self, sql: RawSql, source: str, rows: list[Mapping[str, Any]]) -> None:
        """The EDRs and ready batches of ``rows`` (recipients read from ``source``), in the caller's transaction.

        Raises:
            Superseded: another job moved the checkpoint; the caller's transaction must roll back.
        """
        c = self.campaign
        fresh = []
        blocked = 0
        for row in rows:
            phone = row["phone"]
            if phone in self.seen:
                continue
            self.seen.add(phone)
            if row["blocked"]:
                blocked += 1
                continue
            fresh.append(row)
        now = datetime.now(UTC)
        shorts: list[str | None] = [None] * len(fresh)
        if self.shortener is not None and fresh:
            # One code per recipient, written in this chunk's transaction: a rolled-back chunk leaves no link.
            recipients = [
                LinkRecipient(partner_id=c["partner"], campaign_id=c["id"], destination=row["phone"]) for row in fresh
            ]
            links = await self.shortener.shorten(self.short_domain, self.short_url, recipients)
            shorts = [link.short_url for link in links]
        self.level_charges = {}
        edrs = [self._edr(row, now, short) for row, short in zip(fresh, shorts, strict=True)]
        batch_of: dict[int, int] = {}  # the EDR's place in ``edrs`` → its batch
        for zone, members in self._zoned(edrs):
            for start in range(0, len(members), self.batch_size):
                part = members[start : start + self.batch_size]
                ids = await sql.column(
                    "INSERT INTO campaign_batch (campaign, state, size, amount, worker, zone)"
                    " VALUES ($1, 'ready', $2, 0, '', $3) RETURNING id",
                    c["id"],
                    len(part),
                    zone,
                )
                batch_of.update(dict.fromkeys(part, ids[0]))
        final = [(*e[:BATCH_AT], batch_of[n], *e[BATCH_AT + 1 :]) if n in batch_of else e for n, e in enumerate(edrs)]
        await sql.bulk("edr", EDR_COLUMNS, final)
        if self.level_charges and batch_of:
            chunk_batches = sorted(set(batch_of.values()))
            marks = ", ".join(f"${n}" for n in range(2, len(chunk_batches) + 2))
            edr_ids = {
                r["destination"]: r["id"]
                for r in await sql.rows(
                    f"SELECT id, destination FROM edr WHERE campaign = $1 AND batch IN ({marks})",
                    c["id"],
                    *chunk_batches,
                )
            }
            await write_charges(sql, edr_ids, self.level_charges)
        failed = len(edrs) - len(batch_of)
        mark = json.dumps({"source": source, "after": rows[-1]["id"]})
        # Compare-and-set on the checkpoint: a second job expanding the same campaign (a lost job replaced, saq's
        # sweep re-queuing one it had just seen taken) finds it moved, and its chunk rolls back instead of sending
        # these recipients twice. On PostgreSQL the row lock makes the loser wait and then re-check.
        moved = await sql.execute(
            "UPDATE campaign SET total = total + $1, failed = failed + $2, stop_listed = stop_listed + $3,"
            " expansion = $4 WHERE id = $5 AND CAST(expansion AS TEXT) = $6",
            len(edrs),
            failed,
            blocked,
            mark,
            c["id"],
            self.mark,
        )
        if not moved:
            raise Superseded(c["id"])
        self.mark = mark


async def expander_for(portal: Portal, campaign: dict[str, Any]) -> Expander:
    """A started campaign's expander: its price list and charged levels fixed at its start, its stored checkpoint."""
    index = await prefix_index()
    at = campaign["started_at"] or datetime.now(UTC)
    prices = await price_list(campaign["partner"], campaign["channel"], at)
    now = datetime.now(UTC)
    levels = await charged_levels(campaign["partner"], campaign["channel"], at, now)
    charged = Charged(levels, await campaign_ledgers(campaign, levels))
    held = await held_units(campaign["partner"], campaign["channel"], now)
    expander = Expander(portal, campaign, index, prices, charged, held)
    stored = await Campaign.raw("SELECT CAST(expansion AS TEXT) AS mark FROM campaign WHERE id = {}", campaign["id"])
    expander.mark = stored[0]["mark"]
    return expander


async def expand(portal: Portal, campaign_id: int, on_chunk: Any) -> bool:
    """Expand a started campaign from its checkpoint; ``on_chunk()`` is awaited after each commit.

    Returns False when the campaign is no longer in progress (paused or canceled meanwhile). A cascade's later step
    has no recipients of its own: core.dispatch.cascade hands them over from the step before.
    """
    campaign = await Campaign.select().where(Campaign.id == campaign_id).first()
    if campaign is None or campaign["expanded"] or campaign["parent_id"] is not None:
        return campaign is not None
    expander = await expander_for(portal, campaign)
    checkpoint = json_value(expander.mark) or {}
    if checkpoint:
        rows = await Edr.select(Edr.destination).where(Edr.campaign == campaign_id)
        expander.seen = {r["destination"] for r in rows}
    sources = expander._sources()
    order = [name for name, _ in sources]
    for name, query in sources:
        if checkpoint and order.index(name) < order.index(checkpoint.get("source", name)):
            continue
        after = checkpoint.get("after", 0) if checkpoint.get("source") == name else 0
        more = True
        while more:
            try:
                async with write_transaction() as tx:
                    sql = RawSql(tx.connection, sqlite=is_sqlite())
                    status = await sql.column("SELECT status FROM campaign WHERE id = $1", campaign_id)
                    if not status or status[0] != "in_progress":
                        return False
                    after, more = await expander.chunk(sql, name, query, after)
            except Superseded:  # raised inside the transaction, so the chunk was rolled back
                log.warning("campaign %s: another job is expanding it; this one stops", campaign_id)
                return False
            await on_chunk()
    async with write_transaction() as tx:
        await RawSql(tx.connection, sqlite=is_sqlite()).execute(
            "UPDATE campaign SET expanded = TRUE WHERE id = $1", campaign_id
        )
    return True
