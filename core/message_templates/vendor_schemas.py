"""Vendor template Structs at the boundaries: a template to submit for approval, and what the API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class VendorTemplateCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A template to submit to the channel's vendor (WhatsApp); it can be used once the vendor approves it."""

    channel: Annotated[str, Meta(max_length=40)] = "whatsapp"
    name: Annotated[
        str, Meta(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$", description="Lower case, digits, _")
    ]
    language: Annotated[
        str, Meta(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", description="Meta's language code: en_US, es, de…")
    ] = "en_US"
    category: Literal["authentication", "utility", "marketing"] = "utility"
    body: Annotated[str, Meta(min_length=1, max_length=1024, description="Parameters as {{1}}, {{2}}…")]


class VendorTemplateView(msgspec.Struct, kw_only=True):
    id: int
    channel: str
    name: str
    language: str
    category: str
    body: str
    params: int
    status: str
    reason: str
    created_at: datetime
    updated_at: datetime
