"""A campaign's money: every balance change lands on the campaign's one ledger row in the same transaction.

The ledger row's amount is the campaign's net effect on the balance at any moment (BIL-7: one Campaign row
per campaign), so the ledger always sums to the balance, whatever the order of batches and reports.
"""

from __future__ import annotations

from core.billing.services import apply_to_balance
from core.rawsql import RawSql


class InsufficientBalance(Exception):
    """The debit would take the balance below minus the credit limit (BIL-6)."""


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
        raise InsufficientBalance
    await sql.execute(
        "UPDATE ledger_entry SET amount = amount + $1, balance_after = $2 WHERE id = $3",
        amount,
        balance[0]["balance"],
        ledger_entry_id,
    )
