"""Billing Structs: manual balance adjustments and ledger rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta


class BalanceAdjustment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A manual payment (positive) or correction (negative) by the parent partner."""

    amount: Annotated[Decimal, Meta(ge=-(10**9), le=10**9, description="Signed amount in currency units")]
    reason: Annotated[str, Meta(min_length=3, max_length=500)]


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
