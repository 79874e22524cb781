"""Pack Structs (BIL-3, BIL-8): offers a partner makes, the catalogue its partners see, and packs they hold."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.billing.rate_schemas import BillingMode, Channel, PlanName, aware
from core.money import check_amount
from core.web.i18n import N_

CountryIso = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. ES")]
Mccmnc = Annotated[str, Meta(pattern=r"^[0-9]{5,6}$", description="MCC and MNC together, e.g. 21407")]
Networks = Annotated[
    list[Mccmnc], Meta(max_length=200, description="MCCMNCs of the country it covers; empty: all its networks")
]
PackPrice = Annotated[Decimal, Meta(description="Price of the whole pack in currency units, e.g. 45 or 12.50")]
Messages = Annotated[int, Meta(ge=1, le=1_000_000_000, description="Units in the pack (SMS segments on SMS)")]
ValidityDays = Annotated[int, Meta(ge=1, le=3650, description="Days usable after purchase; empty: no end")]
Token = Annotated[str, Meta(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")]

HeldStatus = Literal["active", "expired", "spent"]
HELD_STATUS_LABELS = {"active": N_("Active"), "expired": N_("Expired"), "spent": N_("Spent")}
CatalogueSort = Literal["newest", "price", "-price", "name"]
SORT_LABELS = {
    "newest": N_("Newest first"),
    "price": N_("Price: low to high"),
    "-price": N_("Price: high to low"),
    "name": N_("Name"),
}


def check_window(available_from: datetime | None, available_until: datetime | None) -> None:
    if available_from is not None and available_until is not None and aware(available_until) <= aware(available_from):
        raise ValueError("available_until: must be after available_from")


class PackCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A pack the caller's partner offers to the partners right below it."""

    name: PlanName
    channel: Channel
    country_iso: CountryIso
    networks: Networks = []
    price: PackPrice
    messages: Messages
    mode: BillingMode = "submitted"
    validity_days: ValidityDays | None = None
    available_from: Annotated[datetime | None, Meta(description="Offered from; empty: at once")] = None
    available_until: Annotated[datetime | None, Meta(description="Offered until (exclusive); empty: no end")] = None
    enabled: bool = True

    def __post_init__(self) -> None:
        check_amount(self.price, "price")
        check_window(self.available_from, self.available_until)


class PackUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to an offer; packs already bought keep what they were bought with."""

    name: PlanName | UnsetType = UNSET
    channel: Channel | UnsetType = UNSET
    country_iso: CountryIso | UnsetType = UNSET
    networks: Networks | UnsetType = UNSET
    price: PackPrice | UnsetType = UNSET
    messages: Messages | UnsetType = UNSET
    mode: BillingMode | UnsetType = UNSET
    validity_days: ValidityDays | UnsetType | None = UNSET
    available_from: datetime | UnsetType | None = UNSET
    available_until: datetime | UnsetType | None = UNSET
    enabled: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.price is not UNSET:
            check_amount(self.price, "price")


class PackView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    partner_name: str
    name: str
    channel: str
    country_iso: str
    country_name: str
    networks: list[str]
    price: Decimal
    currency: str
    messages: int
    cost_per_message: Decimal
    mode: BillingMode
    validity_days: int | None
    available_from: datetime | None
    available_until: datetime | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class BuyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A purchase; the same ``token`` sent again returns the first purchase instead of buying twice."""

    token: Annotated[Token, Meta(description="Any string of yours, unique per intended purchase")] = ""


class HeldPackView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    offer_id: int | None
    name: str
    channel: str
    country_iso: str
    networks: list[str]
    mode: BillingMode
    messages: int
    remaining: int
    price: Decimal
    currency: str
    purchased_at: datetime
    expires_at: datetime | None
    status: HeldStatus
    ledger_entry_id: int | None


class CataloguePlan(msgspec.Struct, kw_only=True):
    """A rate plan of the parent partner, whether it is the caller's plan for its channel, and whether the caller may
    pick it itself (POST /api/packs/plans/{id}/select)."""

    id: int
    name: str
    channel: str
    mode: BillingMode
    currency: str
    countries: list[str]
    current: bool
    selectable: bool


class OwnPlan(msgspec.Struct, kw_only=True):
    """The rate plan the caller uses on a channel."""

    plan_id: int
    name: str
    channel: str
    mode: BillingMode
    assigned_at: datetime


class OrderView(msgspec.Struct, kw_only=True):
    """What buying an offer would do to the buyer's balance."""

    offer: PackView
    balance: Decimal
    balance_after: Decimal
    covered: bool  # the balance after stays within the credit limit


class PricingRequestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A request to the parent partner for rate plans or packs (what the company needs, in its own words)."""

    comment: Annotated[str, Meta(min_length=3, max_length=1000, description="Channels, countries, volumes")]


class PricingRequestSent(msgspec.Struct, kw_only=True):
    request_id: int
