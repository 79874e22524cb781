"""Billing Structs: manual balance adjustments and ledger rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from core.billing.money import check_amount

# Ledger row types (BIL-7) as people read them.
LEDGER_KIND_LABELS = {
    "manual": "Manual payment",
    "top_up": "Balance top up",
    "payment": "Payment",
    "campaign": "Campaign",
    "pack": "Pack purchase",
    "api": "API",
    "rerating": "Rerating",
    "reply": "Reply to MO",
}


class BalanceAdjustment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A manual payment (positive) or correction (negative) by the parent partner."""

    amount: Annotated[Decimal, Meta(description="Signed amount in currency units, e.g. 100 or -12.50")]
    reason: Annotated[str, Meta(min_length=3, max_length=500)]

    def __post_init__(self) -> None:
        check_amount(self.amount, "amount", signed=True)
        if not self.amount:
            raise ValueError("amount: must not be zero")


class LedgerView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    currency: str
    initiator_email: str
    description: str
    created_at: datetime
