"""Billing Structs: manual balance adjustments and ledger rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from core.money import check_amount
from core.web.i18n import N_

# Ledger row types (BIL-7) as people read them; marked for the catalogue, translated where shown.
LEDGER_KIND_LABELS = {
    "manual": N_("Manual payment"),
    "top_up": N_("Balance top up"),
    "payment": N_("Payment"),
    "campaign": N_("Campaign"),
    "pack": N_("Pack purchase"),
    "api": N_("API"),
    "rerating": N_("Rerating"),
    "reply": N_("Reply to MO"),
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
