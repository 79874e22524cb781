"""Tenancy Structs: the acting user, partners, portals, audit entries and requests as they cross boundaries."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.actor import PartnerKind
from core.money import check_amount
from core.web.i18n import N_
from core.web.params import Id

Language = Literal["en", "es", "ru", "tr"]
LANGUAGES: tuple[Language, ...] = ("en", "es", "ru", "tr")

Name = Annotated[str, Meta(min_length=1, max_length=120)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
Slug = Annotated[str, Meta(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$", description="a-z, 0-9 and '-'")]
HostName = Annotated[
    str,
    Meta(
        max_length=253,
        pattern=r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
        description="Host name without port; stored lower-case",
    ),
]
Url = Annotated[str, Meta(max_length=300, pattern=r"^(https?://\S+)?$", description="http(s) URL or empty")]
Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]
OptionalEmail = Annotated[str, Meta(max_length=254, pattern=r"^([^@\s<>]+@[^@\s<>]+\.[^@\s<>]+)?$")]
NonNegativeMoney = Annotated[Decimal, Meta(description="Amount in currency units, e.g. 12.50; not negative")]


class PartnerOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a parent allows a partner (TEN-3)."""

    mo_enabled: bool = False
    auto_replies: bool = False
    flash_sms: bool = False
    premoderate_campaigns: bool = False
    premoderate_templates: bool = False
    shortener_domains: list[HostName] = []
    channels: list[Annotated[str, Meta(max_length=40)]] = []


class PartnerCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    kind: Literal["reseller", "end_user"]
    parent_id: Id | None = None
    currency: Currency | None = None
    credit_limit: NonNegativeMoney = Decimal(0)
    options: PartnerOptions = msgspec.field(default_factory=PartnerOptions)
    portal_id: Id | None = None

    def __post_init__(self) -> None:
        check_amount(self.credit_limit, "credit_limit")


class PartnerUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    name: Name | UnsetType = UNSET
    credit_limit: NonNegativeMoney | UnsetType = UNSET
    options: PartnerOptions | UnsetType = UNSET
    blocked: bool | UnsetType = UNSET
    portal_id: Id | UnsetType | None = UNSET


class PartnerView(msgspec.Struct, kw_only=True):
    id: int
    name: str
    kind: PartnerKind
    parent_id: int | None
    depth: int
    currency: str
    balance: Decimal
    credit_limit: Decimal
    options: PartnerOptions
    blocked: bool
    portal_id: int | None
    created_at: datetime


class RegistrationField(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A question the portal adds to its sign-up form; the answer is kept on the user."""

    key: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="Variable name, e.g. vat_number")]
    label: Annotated[str, Meta(min_length=1, max_length=80)]
    required: bool = False


def registration_fields_from_lines(text: str) -> list[dict[str, object]]:
    """'VAT number *' per line → {key: vat_number, label: VAT number, required: True} (the Admin Panel form)."""
    fields = []
    for line in text.splitlines():
        label = line.strip()
        if not label:
            continue
        required = label.endswith("*")
        label = label.rstrip("*").strip()
        key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
        fields.append({"key": key if key[:1].isalpha() else f"f_{key}", "label": label, "required": required})
    return fields


class PortalCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    brand_name: Annotated[str, Meta(min_length=1, max_length=80)]
    hosts: Annotated[list[HostName], Meta(min_length=1, max_length=20)]
    partner_id: Id | None = None
    theme: Slug = "default"
    default_language: Language = "en"
    languages: Annotated[list[Language], Meta(min_length=1)] = msgspec.field(default_factory=lambda: list(LANGUAGES))
    self_registration: bool = False
    require_2fa: bool = False
    terms_url: Url = ""
    privacy_url: Url = ""
    consent_text: Annotated[str, Meta(max_length=500)] = ""
    help_email: OptionalEmail = ""
    registration_fields: Annotated[list[RegistrationField], Meta(max_length=20)] = []


class PortalUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    brand_name: Annotated[str, Meta(min_length=1, max_length=80)] | UnsetType = UNSET
    hosts: Annotated[list[HostName], Meta(min_length=1, max_length=20)] | UnsetType = UNSET
    theme: Slug | UnsetType = UNSET
    default_language: Language | UnsetType = UNSET
    languages: Annotated[list[Language], Meta(min_length=1)] | UnsetType = UNSET
    self_registration: bool | UnsetType = UNSET
    require_2fa: bool | UnsetType = UNSET
    terms_url: Url | UnsetType = UNSET
    privacy_url: Url | UnsetType = UNSET
    consent_text: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    help_email: OptionalEmail | UnsetType = UNSET
    registration_fields: Annotated[list[RegistrationField], Meta(max_length=20)] | UnsetType = UNSET


class PortalView(msgspec.Struct, kw_only=True):
    id: int
    slug: str
    brand_name: str
    hosts: list[str]
    partner_id: int
    partner_name: str
    theme: str
    default_language: str
    languages: list[str]
    self_registration: bool
    require_2fa: bool
    terms_url: str
    privacy_url: str
    consent_text: str
    help_email: str
    registration_fields: list[RegistrationField]
    created_at: datetime


class AuditView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    partner_name: str
    user_email: str
    action: str
    object_type: str
    object_id: int | None
    summary: str
    sentence: str  # who did what to which object, in the reader's language (the summary for old entries)
    ip: str
    created_at: datetime


# unsubscribed and period ("period changed") follow a confirmed request's object later on (a sender ID given up or
# expired, its validity changed), as its kind reports them (``requests.follow_up``); the column holds 12 letters.
RequestStatus = Literal["new", "in_progress", "confirmed", "declined", "canceled", "unsubscribed", "period"]
LATER_STATUSES: tuple[RequestStatus, ...] = ("confirmed", "unsubscribed", "period")
OPEN_REQUEST_STATUSES: tuple[RequestStatus, ...] = ("new", "in_progress")
REQUEST_STATUS_LABELS: dict[str, str] = {
    "new": N_("New"),
    "in_progress": N_("In progress"),
    "confirmed": N_("Confirmed"),
    "declined": N_("Declined"),
    "canceled": N_("Canceled by user"),
    "unsubscribed": N_("Unsubscribed"),
    "period": N_("Period changed"),
}


class RequestAttachment(msgspec.Struct, kw_only=True):
    name: str
    size: int


class RequestView(msgspec.Struct, kw_only=True):
    """A request as its requester and the partners above it see it."""

    id: int
    kind: str
    kind_label: str
    partner_id: int
    partner_name: str
    holder_id: int
    holder_name: str
    status: RequestStatus
    subject: str
    reason: str
    payload: dict[str, Any]
    attachments: list[RequestAttachment]
    requester_email: str
    requester_language: str
    created_at: datetime
    updated_at: datetime


class RequestDecision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the holder of a request does with it: a reseller passes up or declines; the owner confirms or declines."""

    action: Literal["confirm", "decline", "pass_up"]
    reason: Annotated[str, Meta(max_length=500, description="Required to decline; shown to the requester")] = ""


class ShortDomainCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host: HostName


class ShortDomainGrant(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    partner_id: Id


class ShortDomainView(msgspec.Struct, kw_only=True):
    """A short domain as the acting partner sees it; ``granted_to`` lists the partners it gave it to."""

    id: int
    host: str
    created_at: datetime
    granted_to: list[int] = []
