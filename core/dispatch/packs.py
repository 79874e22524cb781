"""Packs in the dispatch engine (BIL-4): a billed batch's messages take units from the sender's packs before the plan.

Units are taken when a batch is billed, the moment its plan money is taken, in the claim's transaction with the
packs' rows locked: two batches never spend one unit twice, and a pack that runs out mid-batch leaves the rest of
the batch on the plan. A message a pack pays for costs nothing on the balance (its price becomes 0, ``edr.pack``
names the pack, and it follows the pack's billing mode). Units go back wherever money goes back: a batch released
unsent, a message the vendor refused or whose outcome is unknown, and By Delivered a message that ends undelivered.
The levels above the sender pay as before: a pack is what its holder bought, not what its parent is owed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from core.billing.pack_units import USABLE, HeldUnits
from core.dispatch.chain import NO_RATE
from core.rawsql import RawSql

PACK_COLUMNS = (("price", "bigint"), ("pack", "integer"), ("charge_on_delivery", "boolean"))


async def take_units(
    sql: RawSql, partner_id: int, channel: str, rows: Sequence[Mapping[str, Any]], now: datetime
) -> tuple[list[dict[str, Any]], list[int]]:
    """Pay for a billed batch's messages from the sender's packs where one covers them, in the caller's transaction.

    ``rows`` are the batch's EDRs (id, price, rate, parts, country_iso, mccmnc, …). Returns the rows to send, with
    the price each now costs the balance, and the ids of those that can be paid neither way (no plan rate, and no
    pack with units left since expansion found one): the caller fails them.
    """
    lock = "" if sql.sqlite else " FOR UPDATE"
    usable = USABLE.format("$1", "$2", "$3") + lock
    held = HeldUnits(await sql.rows(usable, partner_id, channel, now))
    paid: list[dict[str, Any]] = []
    unpaid: list[int] = []
    covered: list[tuple[int, int, int, bool]] = []
    for row in sorted(rows, key=lambda r: r["id"]):
        found = held.take(row["country_iso"], row["mccmnc"], row["parts"]) if held else None
        if found is not None:
            covered.append((row["id"], 0, found[0], found[1] == "delivered"))
            paid.append({**row, "price": 0})
        elif row["rate"] is None:
            unpaid.append(row["id"])
        else:
            paid.append(dict(row))
    await sql.update_rows("edr", ("id", "bigint"), PACK_COLUMNS, covered)
    await sql.executemany(
        "UPDATE pack_purchase SET remaining = remaining - $1 WHERE id = $2",
        [(units, pack_id) for pack_id, units in sorted(held.taken.items())],
    )
    if unpaid:
        await sql.update_rows(
            "edr",
            ("id", "bigint"),
            (("status", "varchar"), ("error", "varchar"), ("done_at", "timestamptz")),
            [(edr_id, "FAILED", NO_RATE, now) for edr_id in unpaid],
        )
    return paid, unpaid


async def give_back(sql: RawSql, edr_ids: Sequence[int]) -> None:
    """Return to their packs the units of these EDRs that a pack paid for (they were not sent, or not delivered
    By Delivered); the EDRs no longer name a pack, so units are never returned twice."""
    if not edr_ids:
        return
    units: dict[int, int] = defaultdict(int)
    for start in range(0, len(edr_ids), 1000):
        ids = list(edr_ids[start : start + 1000])
        marks = ", ".join(f"${n}" for n in range(1, len(ids) + 1))
        where = f"id IN ({marks}) AND pack IS NOT NULL"
        for r in await sql.rows(f"SELECT pack, parts FROM edr WHERE {where}", *ids):  # noqa: S608 — placeholders
            units[r["pack"]] += r["parts"]
        await sql.execute(f"UPDATE edr SET pack = NULL WHERE {where}", *ids)  # noqa: S608 — placeholders
    await sql.executemany(
        "UPDATE pack_purchase SET remaining = remaining + $1 WHERE id = $2",
        [(n, pack_id) for pack_id, n in sorted(units.items())],
    )
