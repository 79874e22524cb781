"""Sender ID Structs: the senders themselves and the requests that ask for them (SID-1…3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

SenderStatus = Literal["enabled", "disabled", "waiting"]


class SenderCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    channel: Annotated[str, Meta(min_length=1, max_length=40)]
    name: Annotated[str, Meta(min_length=1, max_length=15, description="Up to 11 letters/digits, or 15 digits")]
    status: SenderStatus = "enabled"


class SenderUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: SenderStatus


class SenderView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    channel: str
    name: str
    status: SenderStatus
    created_at: datetime


class SenderRequestCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An end user's (or reseller's) request for a sender ID (SID-1); its PDF documents travel beside it."""

    channel: Annotated[str, Meta(min_length=1, max_length=40, description="sms, viber or whatsapp")]
    name: Annotated[str, Meta(min_length=1, max_length=40, description="Up to 11 letters/digits, or 15 digits")]
    comment: Annotated[str, Meta(max_length=500)] = ""


class SenderRequestDocument(msgspec.Struct, kw_only=True):
    """A document uploaded with a request, as read from the form: its file name and bytes."""

    filename: str
    content: bytes
