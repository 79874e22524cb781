"""A campaign's money: every balance change lands on the campaign's one ledger row in the same transaction.

The ledger row's amount is the campaign's net effect on the balance at any moment (BIL-7: one Campaign row
per campaign), so the ledger always sums to the balance, whatever the order of batches and reports.

Chain charging (TEN-3, BIL-4): every level above the sender (its reseller, that reseller's reseller, … — never
the owner) pays its own price for each message, recorded per message in ``edr_charge`` (which names the level's
ledger row). A batch's money is one sum per level (``level_amounts``) and one conditional UPDATE per partner
(``move_all``), applied in one global order — by partner id — so that concurrent batches of sibling clients of
one reseller can never deadlock, and all-or-nothing: a level that cannot pay raises and the caller's
transaction rolls every level back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from core.billing.services import apply_to_balance
from core.rawsql import RawSql

# Products on the engine whose messages have no campaign (the public API) say on which ledger row a message's
# money is booked: EDR rows → {edr id: ledger entry id}. Registered at start-up, so the engine imports no product.
LedgerLookup = Callable[[RawSql, Sequence[Mapping[str, Any]]], Awaitable[dict[int, int]]]
_ledger_lookups: list[LedgerLookup] = []


class InsufficientBalance(Exception):
    """The debit would take the balance below minus the credit limit (BIL-6); ``needed`` is the debit refused,
    ``partner_id`` the partner whose balance ran out (the sender's or a level's above it)."""

    def __init__(self, needed: int = 0, partner_id: int | None = None) -> None:
        super().__init__(needed, partner_id)
        self.needed = needed
        self.partner_id = partner_id


async def move(sql: RawSql, partner_id: int, ledger_entry_id: int, amount: int) -> None:
    """Add ``amount`` (signed micro-units) to the partner's balance and to the campaign's ledger row.

    One conditional UPDATE, so concurrent workers can never overdraw. Call inside the batch's transaction.

    Raises:
        InsufficientBalance: a debit the credit limit does not allow; nothing changed.
    """
    if amount == 0:
        return
    balance = await apply_to_balance(partner_id, amount)
    if not balance:
        raise InsufficientBalance(-amount, partner_id)
    await sql.execute(
        "UPDATE ledger_entry SET amount = amount + $1, balance_after = $2 WHERE id = $3",
        amount,
        balance[0]["balance"],
        ledger_entry_id,
    )


def register_ledger_lookup(lookup: LedgerLookup) -> None:
    """Add a product's lookup (once, however often the runtime starts)."""
    if lookup not in _ledger_lookups:
        _ledger_lookups.append(lookup)


async def ledgers_of(sql: RawSql, rows: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """The ledger row of each campaign-less EDR in ``rows`` that a registered product knows."""
    found: dict[int, int] = {}
    for lookup in _ledger_lookups:
        found.update(await lookup(sql, rows))
    return found


async def move_all(sql: RawSql, moves: Iterable[tuple[int, int, int]]) -> None:
    """Apply (partner, ledger row, signed amount) moves: summed per (partner, ledger row), in ascending partner id.

    One global lock order for every transaction that moves several partners' money (a batch's sender and its
    levels), so two of them never wait on each other in a cycle. A refused debit raises with nothing of *its*
    partner changed; the moves before it stay in the transaction, which the caller rolls back (or rolls back to
    a savepoint, see ``savepoint``).

    Raises:
        InsufficientBalance: a debit the partner's credit limit does not allow.
    """
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for partner_id, ledger_entry_id, amount in moves:
        totals[partner_id, ledger_entry_id] += amount
    for (partner_id, ledger_entry_id), amount in sorted(totals.items()):
        await move(sql, partner_id, ledger_entry_id, amount)


async def level_amounts(sql: RawSql, edr_where: str, *args: Any, sign: int = 1) -> list[tuple[int, int, int]]:
    """What the levels above the sender were charged for the EDRs matching ``edr_where`` (a condition on ``edr``
    with $n placeholders for ``args``): one (partner, ledger row, ``sign`` times the sum) per level."""
    ids = await sql.column(f"SELECT id FROM edr WHERE {edr_where}", *args)  # noqa: S608
    return await level_amounts_of(sql, ids, sign=sign)


async def level_amounts_of(sql: RawSql, edr_ids: Sequence[int], *, sign: int = 1) -> list[tuple[int, int, int]]:
    """``level_amounts`` for EDRs given by id: one grouped statement per 1,000 ids.

    The ids are looked up by the ``edr_charge.edr`` index as an array (PostgreSQL) or a list: a join or ``IN
    (subquery)`` against freshly COPYed rows with stale statistics was planned as a scan, 10 times slower (measured).
    """
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for start in range(0, len(edr_ids), 1000):
        edrs, args = sql.in_ids(edr_ids[start : start + 1000])
        rows = await sql.rows(
            # A charge the level's own pack pays for (core.dispatch.packs) moves no money.
            f"SELECT c.partner, c.ledger_entry, SUM(c.price) AS amount FROM edr_charge AS c WHERE c.edr {edrs}"  # noqa: S608
            " AND c.pack IS NULL GROUP BY c.partner, c.ledger_entry",
            *args,
        )
        for r in rows:
            totals[r["partner"], r["ledger_entry"]] += int(r["amount"] or 0)
    return [(partner, ledger, sign * amount) for (partner, ledger), amount in sorted(totals.items()) if amount]


class savepoint:
    """A nested transaction: an exception inside rolls back only what was done inside, then propagates."""

    _count = 0

    def __init__(self, sql: RawSql) -> None:
        savepoint._count += 1
        self.sql = sql
        self.name = f"money_{savepoint._count}"

    async def __aenter__(self) -> None:
        await self.sql.execute(f"SAVEPOINT {self.name}")

    async def __aexit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        if kind is None:
            await self.sql.execute(f"RELEASE SAVEPOINT {self.name}")
        else:
            await self.sql.execute(f"ROLLBACK TO SAVEPOINT {self.name}")
        return False
