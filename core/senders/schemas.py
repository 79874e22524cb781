"""Sender ID Structs: the senders themselves and the requests that ask for them (SID-1…3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.tenancy.schemas import OptionalEmail

SenderStatus = Literal["enabled", "disabled", "waiting"]


class SenderCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    channel: Annotated[str, Meta(min_length=1, max_length=40)]
    name: Annotated[str, Meta(min_length=1, max_length=15, description="Up to 11 letters/digits, or 15 digits")]
    status: SenderStatus = "enabled"


class SenderUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: SenderStatus | UnsetType = UNSET
    valid_until: Annotated[
        date | UnsetType | None, Meta(description="The last day (UTC) it may be used; null: no end")
    ] = UNSET


class SenderView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    channel: str
    name: str
    status: SenderStatus
    created_at: datetime
    valid_until: date | None = None
    days_left: Annotated[
        int | None,
        Meta(
            description="Days it may still be used after today: 0 today is its last, below 0 it expired; null: no end"
        ),
    ] = None


class SenderRequestCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An end user's (or reseller's) request for a sender ID (SID-1); its PDF documents travel beside it."""

    channel: Annotated[str, Meta(min_length=1, max_length=40, description="sms, viber or whatsapp")]
    name: Annotated[str, Meta(min_length=1, max_length=40, description="Up to 11 letters/digits, or 15 digits")]
    comment: Annotated[str, Meta(max_length=500)] = ""
    # WhatsApp only (the vendor registers the business's profile): required there, ignored on other channels.
    business_manager_id: Annotated[
        str, Meta(max_length=40, description="WhatsApp: the Business Manager account ID")
    ] = ""
    phone: Annotated[str, Meta(max_length=40, description="WhatsApp: the number the account signs up with")] = ""
    description: Annotated[str, Meta(max_length=512, description="WhatsApp: what the business does")] = ""
    address: Annotated[str, Meta(max_length=256)] = ""
    email: OptionalEmail = ""
    website: Annotated[str, Meta(max_length=300, description="WhatsApp: an http(s) address")] = ""


WHATSAPP_FIELDS = ("business_manager_id", "phone", "description", "address", "email", "website")


class SenderRequestDocument(msgspec.Struct, kw_only=True):
    """A document uploaded with a request, as read from the form: its file name and bytes."""

    filename: str
    content: bytes
