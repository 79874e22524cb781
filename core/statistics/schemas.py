"""Statistics Structs: one EDR (message attempt) as the portal and the API show it, and the EDR table's filter."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.web.pagination import PageNumber
from core.web.params import Id

EDR_STATUSES = ("PREPARED", "BILLED", "SENT", "DELIVERED", "UNDELIVERED", "FAILED", "SEEN")
DEFAULT_EDR_ROWS = 150  # STA-1: the table opens on the latest 150 records of today

Source = Literal["", "campaign", "api"]


class EdrFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the EDR table shows; every field is optional. Times are UTC instants (the page converts)."""

    source: Annotated[Source, Meta(description="campaign: campaign messages only; api: messages sent by API")] = ""
    status: Annotated[str, Meta(max_length=12)] = ""
    channel: Annotated[str, Meta(max_length=40)] = ""
    campaign_id: Id | None = None
    recipient: Annotated[str, Meta(max_length=20, description="Part of the destination number")] = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    page: PageNumber = 1
    per_page: Annotated[int, Meta(ge=1, le=1000)] = DEFAULT_EDR_ROWS


class EdrView(msgspec.Struct, kw_only=True):
    id: int
    campaign_id: int | None
    campaign_name: str
    transaction_id: str
    channel: str
    sender: str
    destination: str
    text: str | None
    parts: int
    country_iso: str
    country: str
    network: str
    mccmnc: str
    rate: Decimal | None
    price: Decimal
    currency: str
    status: str
    error: str
    vendor_status: str
    vendor_message_id: str | None
    created_at: datetime
    sent_at: datetime | None
    done_at: datetime | None
