"""Packs in the dispatch engine (BIL-4): a billed batch's messages take units from the sender's packs before the plan.

Units are taken when a batch is billed, the moment its plan money is taken, in the claim's transaction with the
packs' rows locked: two batches never spend one unit twice, and a pack that runs out mid-batch leaves the rest of
the batch on the plan. A message a pack pays for costs nothing on the balance (its price becomes 0, ``edr.pack``
names the pack, and it follows the pack's billing mode). Units go back wherever money goes back: a batch released
unsent, a message the vendor refused or whose outcome is unknown, and By Delivered a message that ends undelivered.

The levels above the sender (its resellers) use their own packs the same way for what they are charged: a level's
charge row (``edr_charge``) that a pack of the level's pays for names it and is left out of the level's sums.

Lock order: packs are locked and changed in id order, after the EDRs and before any balance (``money.move_all``),
in every transaction that touches them.
"""

# ruff: noqa: S608 — statements interpolate only placeholders ($n) and fixed SQL words, never values.

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.billing.pack_units import USABLE, HeldUnits
from core.dispatch import money
from core.dispatch.chain import NO_RATE
from core.rawsql import RawSql

PACK_COLUMNS = (("price", "bigint"), ("pack", "integer"), ("charge_on_delivery", "boolean"))
FAILED_COLUMNS = (("status", "varchar"), ("error", "varchar"), ("done_at", "timestamptz"))


@dataclass(slots=True)
class Want:
    """One message to pay for from packs: where it goes, its units, whether the plan could pay instead, and the
    levels above the sender charged for it. ``spend`` fills in what paid."""

    country_iso: str
    mccmnc: str
    parts: int
    has_rate: bool
    levels: Sequence[int] = ()
    own: tuple[int, str] | None = None  # (pack id, billing mode) of the sender's pack that pays for it
    level_packs: dict[int, int] = field(default_factory=dict)  # level partner → the pack of its own that pays

    @property
    def unpaid(self) -> bool:
        """Neither a pack nor the plan can pay for it: it cannot be sent."""
        return self.own is None and not self.has_rate


async def spend(sql: RawSql, sender: int, channel: str, wants: Sequence[Want], now: datetime) -> None:
    """Take units for ``wants`` from the packs of the sender and of the levels charged for them, in the caller's
    transaction: the one place packs are spent, for campaigns' batches and API requests alike.

    The packs are locked (PostgreSQL) in id order before anything else changes them; each message takes from the
    first of its sender's packs that covers it, and each of its levels' charges from that level's. A message that
    can be paid neither way takes nothing at any level.
    """
    if not wants:
        return
    partners = sorted({sender, *(level for want in wants for level in want.levels)})
    owners, args = sql.in_ids(partners, 3)
    lock = "" if sql.sqlite else " FOR UPDATE"
    found: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for pack in await sql.rows(USABLE.format(f"partner {owners}", "$1", "$2") + lock, channel, now, *args):
        found[pack["partner"]].append(pack)
    if not found:
        return
    held = {partner: HeldUnits(rows) for partner, rows in found.items()}
    own = held.get(sender)
    for want in wants:
        want.own = own.take(want.country_iso, want.mccmnc, want.parts) if own else None
        if want.unpaid:
            continue
        for level in want.levels:
            units = held.get(level)
            taken = units.take(want.country_iso, want.mccmnc, want.parts) if units else None
            if taken is not None:
                want.level_packs[level] = taken[0]
    spent = sorted((pack_id, n) for units in held.values() for pack_id, n in units.taken.items())
    await sql.executemany(
        "UPDATE pack_purchase SET remaining = remaining - $1 WHERE id = $2", [(n, p) for p, n in spent]
    )


async def count_on_ledgers(sql: RawSql, units: Mapping[int, int]) -> None:
    """Add ``units`` (ledger row id → signed units) to the rows' ``details.from_packs``: the "Messages from packs"
    of the daily API rows (BIL-7), kept as units are taken and given back (a campaign's rows are written whole when
    it finishes). One atomic update per row, in id order, after the balances (the engine's lock order)."""
    if sql.sqlite:
        statement = (
            "UPDATE ledger_entry SET details = json_set(COALESCE(details, '{}'), '$.from_packs',"
            " COALESCE(json_extract(details, '$.from_packs'), 0) + $1) WHERE id = $2"
        )
    else:
        statement = (
            "UPDATE ledger_entry SET details = jsonb_set(COALESCE(details::jsonb, '{}'::jsonb), '{from_packs}',"
            " to_jsonb(COALESCE((details::jsonb ->> 'from_packs')::bigint, 0) + $1::bigint))::json WHERE id = $2"
        )
    await sql.executemany(statement, [(n, ledger) for ledger, n in sorted(units.items()) if n])


async def mark_level_packs(sql: RawSql, paid: Iterable[tuple[int, Mapping[int, int]]]) -> None:
    """Name on the levels' charge rows (``edr_charge``) the level's pack that paid for each: ``paid`` holds (EDR id,
    ``Want.level_packs``). Such a row moves no money (``money.level_amounts_of``) and its units come back with it."""
    rows = [(pack, edr, level) for edr, level_packs in paid for level, pack in level_packs.items()]
    await sql.executemany("UPDATE edr_charge SET pack = $1 WHERE edr = $2 AND partner = $3", rows)


async def take_units(
    sql: RawSql, partner_id: int, channel: str, rows: Sequence[Mapping[str, Any]], now: datetime
) -> tuple[list[dict[str, Any]], list[int]]:
    """Pay for a billed batch's messages from the packs of the sender and of its levels where one covers them, in
    the caller's transaction.

    ``rows`` are the batch's EDRs (id, price, rate, parts, country_iso, mccmnc, …). Returns the rows to send, with
    the price each now costs the sender's balance, and the ids of those that can be paid neither way (no plan rate,
    and no pack with units left since expansion found one): they are failed here, the caller counts them.
    """
    rows = sorted(rows, key=lambda r: r["id"])
    if not rows:
        return [], []
    edrs, args = sql.in_ids([r["id"] for r in rows])
    levels: dict[int, list[int]] = defaultdict(list)
    for charge in await sql.rows(f"SELECT edr, partner FROM edr_charge WHERE edr {edrs}", *args):
        levels[charge["edr"]].append(charge["partner"])
    wants = [Want(r["country_iso"], r["mccmnc"], r["parts"], r["rate"] is not None, levels[r["id"]]) for r in rows]
    await spend(sql, partner_id, channel, wants, now)
    paid: list[dict[str, Any]] = []
    covered: list[tuple[int, int, int, bool]] = []
    for row, want in zip(rows, wants, strict=True):
        if want.own is not None:
            covered.append((row["id"], 0, want.own[0], want.own[1] == "delivered"))
            paid.append({**row, "price": 0})
        elif not want.unpaid:
            paid.append(dict(row))
    unpaid = [row["id"] for row, want in zip(rows, wants, strict=True) if want.unpaid]
    await sql.update_rows("edr", ("id", "bigint"), PACK_COLUMNS, covered)
    await sql.update_rows("edr", ("id", "bigint"), FAILED_COLUMNS, [(i, "FAILED", NO_RATE, now) for i in unpaid])
    await mark_level_packs(sql, [(r["id"], w.level_packs) for r, w in zip(rows, wants, strict=True)])
    return paid, unpaid


async def give_back(sql: RawSql, edr_ids: Sequence[int]) -> dict[int, int]:
    """Return to their packs the units that packs paid for these EDRs, the sender's and the levels' (the messages
    were not sent, or By Delivered not delivered). Call after the levels' amounts were summed (``money``): the rows
    no longer name a pack afterwards, so units are never returned twice.

    Returns what to take off the API ledger rows' "from packs" (``count_on_ledgers``), for the caller to apply
    after the balances: ledger rows come after balances in the lock order, and this runs before them.
    """
    units: dict[int, int] = defaultdict(int)
    api_ledgers: dict[int, int] = defaultdict(int)  # the API rows' "from packs" to take back (count_on_ledgers)
    for start in range(0, len(edr_ids), 1000):
        edrs, args = sql.in_ids(edr_ids[start : start + 1000])
        own = await sql.rows(
            f"SELECT id, pack, parts, campaign, batch, channel FROM edr WHERE id {edrs} AND pack IS NOT NULL", *args
        )
        levels = await sql.rows(
            "SELECT c.pack, c.ledger_entry, e.parts, e.campaign FROM edr_charge AS c JOIN edr AS e ON e.id = c.edr"
            f" WHERE c.edr {edrs} AND c.pack IS NOT NULL",
            *args,
        )
        for r in [*own, *levels]:
            units[r["pack"]] += r["parts"]
        ledger_of = await money.ledgers_of(sql, [r for r in own if r["campaign"] is None])
        for r in own:
            if r["id"] in ledger_of:
                api_ledgers[ledger_of[r["id"]]] -= r["parts"]
        for r in levels:
            if r["campaign"] is None:
                api_ledgers[r["ledger_entry"]] -= r["parts"]
        if levels:
            await sql.execute(f"UPDATE edr_charge SET pack = NULL WHERE edr {edrs} AND pack IS NOT NULL", *args)
        if own:
            await sql.execute(f"UPDATE edr SET pack = NULL WHERE id {edrs} AND pack IS NOT NULL", *args)
    await sql.executemany(
        "UPDATE pack_purchase SET remaining = remaining + $1 WHERE id = $2",
        [(n, pack_id) for pack_id, n in sorted(units.items())],
    )
    return dict(api_ledgers)
