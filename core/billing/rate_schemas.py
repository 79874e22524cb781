"""Rate plan Structs (BIL-2): plans, their rates per network or country, and assignments to partners."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.money import check_amount
from core.web.i18n import N_
from core.web.params import Id

BillingMode = Literal["submitted", "delivered"]
MODE_LABELS = {"submitted": N_("By Submitted"), "delivered": N_("By Delivered")}

PlanName = Annotated[str, Meta(min_length=1, max_length=120)]
Channel = Annotated[str, Meta(min_length=1, max_length=40, description="A channel name from GET /api/admin/channels")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
Price = Annotated[Decimal, Meta(description="Price of one unit (an SMS segment) in currency units, e.g. 0.045")]


class RatePlanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: PlanName
    channel: Channel
    mode: BillingMode = "submitted"
    currency: Currency | None = None  # None: the offering partner's currency
    selectable: Annotated[bool, Meta(description="The partners below may pick this plan themselves")] = False


class RatePlanUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: PlanName | UnsetType = UNSET
    mode: BillingMode | UnsetType = UNSET
    selectable: bool | UnsetType = UNSET


class RatePlanView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    partner_name: str
    name: str
    channel: str
    mode: BillingMode
    currency: str
    selectable: bool
    rates: int
    assigned: int
    created_at: datetime
    updated_at: datetime


class RateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A rate to a network (MCC + MNC) or to a country's All networks (MNC empty)."""

    country_iso: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
    mcc: Annotated[str, Meta(pattern=r"^[0-9]{3}$")]
    mnc: Annotated[str, Meta(pattern=r"^([0-9]{2,3})?$")] = ""
    price: Price
    valid_from: datetime | None = None
    valid_to: Annotated[datetime | None, Meta(description="Exclusive end; empty = open-ended")] = None

    def __post_init__(self) -> None:
        check_amount(self.price, "price")
        check_period(self.valid_from, self.valid_to)


class RateUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    price: Price | UnsetType = UNSET
    valid_from: datetime | UnsetType | None = UNSET
    valid_to: datetime | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if self.price is not UNSET:
            check_amount(self.price, "price")


def check_period(valid_from: datetime | None, valid_to: datetime | None) -> None:
    if valid_from is not None and valid_to is not None and aware(valid_to) <= aware(valid_from):
        raise ValueError("valid_to: must be after valid_from")


def aware(moment: datetime) -> datetime:
    """A date without a zone is UTC (ARCHITECTURE: time in UTC)."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RateView(msgspec.Struct, kw_only=True):
    id: int
    plan_id: int
    country_iso: str
    mcc: str
    mnc: str
    price: Decimal
    valid_from: datetime | None
    valid_to: datetime | None


class RatesUploaded(msgspec.Struct, kw_only=True):
    plan_id: int
    rates: int


class AssignmentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    partner_id: Id


class AssignmentView(msgspec.Struct, kw_only=True):
    partner_id: int
    partner_name: str
    plan_id: int
    plan_name: str
    channel: str
    assigned_by: str
    assigned_at: datetime
