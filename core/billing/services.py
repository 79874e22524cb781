"""Billing services: balance changes, each one a conditional update plus its ledger row in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.accounts.tables import User
from core.actor import Actor
from core.billing.schemas import BalanceAdjustment, LedgerView
from core.billing.tables import LedgerEntry
from core.db import json_value, must_exist, write_transaction
from core.errors import Conflict
from core.money import format_money, from_micros, to_micros
from core.tenancy import audit
from core.tenancy.scope import managed_partner, of_visible_partner, require_admin, require_manager
from core.tenancy.tables import Partner
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate


def ledger_view(row: dict[str, Any]) -> LedgerView:
    return LedgerView(
        id=row["id"],
        partner_id=row["partner"],
        kind=row["kind"],
        amount=from_micros(row["amount"]),
        balance_after=from_micros(row["balance_after"]),
        currency=row["currency"],
        initiator_email=row["initiator_email"],
        description=row["description"],
        created_at=row["created_at"],
        from_packs=int((json_value(row.get("details")) or {}).get("from_packs") or 0),
    )


async def apply_to_balance(partner_id: int, amount_micros: int) -> list[dict[str, Any]]:
    """The one conditional balance update (BIL-6): [{balance, currency}] after it, or [] when a debit would go
    below minus the credit limit. Credits always apply. Call inside the transaction that records the change."""
    return await Partner.raw(
        "UPDATE partner SET balance = balance + CAST({} AS BIGINT) WHERE id = {}"
        " AND (CAST({} AS BIGINT) >= 0 OR balance + CAST({} AS BIGINT) >= -credit_limit) "
        "RETURNING balance, currency",
        amount_micros,
        partner_id,
        amount_micros,
        amount_micros,
    )


async def change_balance(
    partner_id: int,
    amount_micros: int,
    *,
    kind: str,
    description: str,
    initiator: Actor | None,
    details: dict[str, Any] | None = None,
) -> int:
    """Add ``amount_micros`` (signed) to a balance and write its ledger row; returns the ledger row id.

    The update only applies while the result stays above minus the credit limit (BIL-6), so concurrent
    debits by several workers can never overdraw. Call inside ``write_transaction()``.

    Raises:
        Conflict: the balance would fall below the credit limit.
    """
    rows = await apply_to_balance(partner_id, amount_micros)
    if not rows:
        raise Conflict("Insufficient balance: the change would go below the credit limit", field="amount")
    entry = LedgerEntry(
        partner=partner_id,
        kind=kind,
        amount=amount_micros,
        balance_after=rows[0]["balance"],
        currency=rows[0]["currency"],
        initiator_id=initiator.user_id if initiator else None,
        initiator_email=initiator.email if initiator else "",
        description=description,
        details=details or {},
        created_at=datetime.now(UTC),
    )
    await entry.save()
    return entry.id


async def adjust_balance(actor: Actor, partner_id: int, data: BalanceAdjustment, *, ip: str = "") -> LedgerView:
    """A parent's manual payment or correction of a descendant's balance, audited."""
    require_manager(actor)
    require_admin(actor, "change balances")
    partner = await managed_partner(actor, partner_id)
    micros = to_micros(data.amount)
    async with write_transaction():
        entry_id = await change_balance(partner_id, micros, kind="manual", description=data.reason, initiator=actor)
        await audit.record(
            actor,
            "balance.adjust",
            f"{'Added' if micros > 0 else 'Deducted'} {format_money(abs(micros), partner['currency'])} "
            f"{'to' if micros > 0 else 'from'} {partner['name']}: {data.reason}",
            object_type="partner",
            object_id=partner_id,
            details={"amount_micros": micros},
            ip=ip,
            name=partner["name"],
            variant="add" if micros > 0 else "deduct",
            params={"amount": audit.money(abs(micros), partner["currency"]), "reason": data.reason},
        )
    row = must_exist(await LedgerEntry.select().where(LedgerEntry.id == entry_id).first())
    return ledger_view(row)


async def list_ledger(
    actor: Actor, partner_id: int, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[LedgerView]:
    where = await of_visible_partner(actor, LedgerEntry, partner_id)
    require_admin(actor, "see finance")
    found = await paginate(
        LedgerEntry.select().order_by(LedgerEntry.id, ascending=False), where, page=page, per_page=per_page
    )
    return found.with_items([ledger_view(r) for r in found.items])


async def balance_of(actor: Actor) -> str:
    """The acting partner's balance for the header."""
    row = must_exist(
        await Partner.select(Partner.balance, Partner.currency).where(Partner.id == actor.partner_id).first()
    )
    return format_money(row["balance"], row["currency"])


async def low_balance_of(actor: Actor) -> str:
    """The user's warning threshold, formatted, while the company's balance is below it; else empty."""
    row = await User.select(User.low_balance_alert).where(User.id == actor.user_id).first()
    if row is None or row["low_balance_alert"] is None:
        return ""
    partner = must_exist(
        await Partner.select(Partner.balance, Partner.currency).where(Partner.id == actor.partner_id).first()
    )
    return (
        format_money(row["low_balance_alert"], partner["currency"])
        if partner["balance"] < row["low_balance_alert"]
        else ""
    )
