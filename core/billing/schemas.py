"""Billing Structs: manual balance adjustments and ledger rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

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
    from_packs: int = 0
    """Units (messages, or SMS segments) the change's messages took from packs instead of the balance (BIL-7)."""


MAX_TOP_UP = Decimal(1_000_000)


class TopUpIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A top-up to start (BIL-9): the amount in the partner's currency and the payment system to pay it with."""

    amount: Annotated[Decimal, Meta(description="Amount in currency units, at most 2 decimals, e.g. 50 or 12.50")]
    account_id: Annotated[int, Meta(ge=1, le=2_147_483_647, description="A payment system from GET /api/payments")]

    def __post_init__(self) -> None:
        if not self.amount.is_finite() or self.amount <= 0:
            raise ValueError("amount: must be more than 0")
        if self.amount > MAX_TOP_UP:
            raise ValueError(f"amount: must be at most {MAX_TOP_UP:,}")
        if self.amount != self.amount.quantize(Decimal("0.01")):
            raise ValueError("amount: at most 2 decimal places")


class PaymentAccountIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An account with a payment system that the owner or a reseller offers to the partners below it."""

    provider: Annotated[str, Meta(min_length=1, max_length=40)]
    name: Annotated[str, Meta(min_length=1, max_length=120)]
    settings: dict[str, Any] = {}
    enabled: bool = True


class PaymentAccountUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Turn an account on or off for new top ups; webhooks of payments already opened with it still apply."""

    enabled: bool


class PaymentAccountView(msgspec.Struct, kw_only=True):
    """A payment account as its owner sees it: never its keys."""

    id: int
    provider: str
    name: str
    enabled: bool
    created_at: datetime


class PaymentSystem(msgspec.Struct, kw_only=True):
    """A payment system the acting partner can top up with."""

    account_id: int
    provider: str
    name: str


class PaymentView(msgspec.Struct, kw_only=True):
    id: int
    provider: str
    amount: Decimal
    currency: str
    status: str
    initiator_email: str
    created_at: datetime
    paid_at: datetime | None


class TopUpStarted(msgspec.Struct, kw_only=True):
    """The payment opened with the provider and the page the payer goes to."""

    payment_id: int
    checkout_url: str
