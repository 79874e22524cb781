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
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from core.billing.pack_units import USABLE, HeldUnits
from core.dispatch.chain import NO_RATE
from core.rawsql import RawSql

PACK_COLUMNS = (("price", "bigint"), ("pack", "integer"), ("charge_on_delivery", "boolean"))
FAILED_COLUMNS = (("status", "varchar"), ("error", "varchar"), ("done_at", "timestamptz"))


def _in(sql: RawSql, ids: Sequence[int], start: int = 1) -> tuple[str, list[Any]]:
    """``IN`` over ids as SQL with its arguments: one array parameter on PostgreSQL, one per id on SQLite."""
    if sql.sqlite:
        return "IN (" + ", ".join(f"${n}" for n in range(start, start + len(ids))) + ")", list(ids)
    return f"= ANY(${start}::bigint[])", [list(ids)]


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
    edrs, args = _in(sql, [r["id"] for r in rows], 4)
    partners = f"partner = $1 OR partner IN (SELECT partner FROM edr_charge WHERE edr {edrs})"
    lock = "" if sql.sqlite else " FOR UPDATE"
    packs: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for pack in await sql.rows(USABLE.format(partners, "$2", "$3") + lock, partner_id, channel, now, *args):
        packs[pack["partner"]].append(pack)
    own = HeldUnits(packs.pop(partner_id, []))
    paid: list[dict[str, Any]] = []
    unpaid: list[int] = []
    covered: list[tuple[int, int, int, bool]] = []
    for row in rows:
        taken = own.take(row["country_iso"], row["mccmnc"], row["parts"]) if own else None
        if taken is not None:
            covered.append((row["id"], 0, taken[0], taken[1] == "delivered"))
            paid.append({**row, "price": 0})
        elif row["rate"] is None:
            unpaid.append(row["id"])
        else:
            paid.append(dict(row))
    await sql.update_rows("edr", ("id", "bigint"), PACK_COLUMNS, covered)
    await sql.update_rows("edr", ("id", "bigint"), FAILED_COLUMNS, [(i, "FAILED", NO_RATE, now) for i in unpaid])
    units = dict(own.taken)
    if packs:
        units.update(await _levels_take(sql, packs, paid))
    await sql.executemany(
        "UPDATE pack_purchase SET remaining = remaining - $1 WHERE id = $2",
        [(n, pack_id) for pack_id, n in sorted(units.items())],
    )
    return paid, unpaid


async def _levels_take(
    sql: RawSql, packs: Mapping[int, list[Mapping[str, Any]]], rows: Sequence[Mapping[str, Any]]
) -> dict[int, int]:
    """The levels' packs pay for the levels' charges of ``rows`` where they cover them; the units taken by pack."""
    if not rows:
        return {}
    by_id = {r["id"]: r for r in rows}
    held = {partner: HeldUnits(found) for partner, found in packs.items()}
    edrs, args = _in(sql, list(by_id))
    charges = await sql.rows(f"SELECT edr, partner FROM edr_charge WHERE edr {edrs} ORDER BY edr", *args)
    paid: list[tuple[int, int, int]] = []
    for charge in charges:
        level = held.get(charge["partner"])
        row = by_id[charge["edr"]]
        taken = level.take(row["country_iso"], row["mccmnc"], row["parts"]) if level else None
        if taken is not None:
            paid.append((taken[0], charge["edr"], charge["partner"]))
    await sql.executemany("UPDATE edr_charge SET pack = $1 WHERE edr = $2 AND partner = $3", paid)
    return {pack_id: n for level in held.values() for pack_id, n in level.taken.items()}


async def give_back(sql: RawSql, edr_ids: Sequence[int]) -> None:
    """Return to their packs the units that packs paid for these EDRs, the sender's and the levels' (the messages
    were not sent, or By Delivered not delivered). Call after the levels' amounts were summed (``money``): the rows
    no longer name a pack afterwards, so units are never returned twice."""
    units: dict[int, int] = defaultdict(int)
    for start in range(0, len(edr_ids), 1000):
        edrs, args = _in(sql, edr_ids[start : start + 1000])
        for r in await sql.rows(f"SELECT pack, parts FROM edr WHERE id {edrs} AND pack IS NOT NULL", *args):
            units[r["pack"]] += r["parts"]
        levels = await sql.rows(
            "SELECT c.pack, e.parts FROM edr_charge AS c JOIN edr AS e ON e.id = c.edr"
            f" WHERE c.edr {edrs} AND c.pack IS NOT NULL",
            *args,
        )
        for r in levels:
            units[r["pack"]] += r["parts"]
        if levels:
            await sql.execute(f"UPDATE edr_charge SET pack = NULL WHERE edr {edrs} AND pack IS NOT NULL", *args)
        await sql.execute(f"UPDATE edr SET pack = NULL WHERE id {edrs} AND pack IS NOT NULL", *args)
    await sql.executemany(
        "UPDATE pack_purchase SET remaining = remaining + $1 WHERE id = $2",
        [(n, pack_id) for pack_id, n in sorted(units.items())],
    )
