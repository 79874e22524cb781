"""A campaign's money: every balance change lands on the campaign's one ledger row in the same transaction.

The ledger row's amount is the campaign's net effect on the balance at any moment (BIL-7: one Campaign row
per campaign), so the ledger always sums to the balance, whatever the order of batches and reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from core.billing.services import apply_to_balance
from core.rawsql import RawSql

# Products on the engine whose messages have no campaign (the public API) say on which ledger row a message's
# money is booked: EDR rows → {edr id: ledger entry id}. Registered at start-up, so the engine imports no product.
LedgerLookup = Callable[[RawSql, Sequence[Mapping[str, Any]]], Awaitable[dict[int, int]]]
_ledger_lookups: list[LedgerLookup] = []


class InsufficientBalance(Exception):
    """The debit would take the balance below minus the credit limit (BIL-6); ``needed`` is the debit refused."""

    def __init__(self, needed: int = 0) -> None:
        super().__init__(needed)
        self.needed = needed


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
        raise InsufficientBalance(-amount)
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
