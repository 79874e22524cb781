"""Sender ID Structs (the minimal list the owner keeps until the request workflow exists)."""

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
