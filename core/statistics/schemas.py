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
    client_id: Id | None = None  # resellers and the owner: one company of their subtree
    recipient: Annotated[str, Meta(max_length=20, description="Part of the destination number")] = ""
    sender: Annotated[str, Meta(max_length=15, description="The sender ID, exactly")] = ""
    transaction_id: Annotated[str, Meta(max_length=36, description="The transaction id, exactly")] = ""
    country: Annotated[str, Meta(max_length=60, description="Country name or two-letter ISO code")] = ""
    network: Annotated[str, Meta(max_length=80, description="Part of the network's name")] = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    page: PageNumber = 1
    per_page: Annotated[int, Meta(ge=1, le=1000)] = DEFAULT_EDR_ROWS


class EdrView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
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


ExportColumn = Literal[
    "created_at",
    "transaction_id",
    "campaign",
    "channel",
    "sender",
    "destination",
    "text",
    "parts",
    "country",
    "network",
    "mccmnc",
    "rate",
    "price",
    "status",
    "error",
    "sent_at",
    "done_at",
]


class ExportCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An export of the records an EDR filter matches (its page and per_page aside); no columns means every column."""

    filters: EdrFilter = msgspec.field(default_factory=EdrFilter)
    columns: Annotated[list[ExportColumn], Meta(max_length=17)] = msgspec.field(default_factory=list)
    file_format: Literal["csv", "xlsx"] = "csv"
    delivery: Annotated[
        Literal["download", "email"],
        Meta(description="email: the file (when at most 25 MB) and a link to it are mailed to you when it is ready"),
    ] = "download"


class ExportView(msgspec.Struct, kw_only=True):
    """An export task: waiting (with progress), ready, sent, cancelled, failed or expired."""

    id: int
    status: str
    file_format: str
    delivery: str
    columns: list[str]
    total: int
    written: int
    file_size: int
    error: str
    user_email: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    download_url: str | None
