"""Campaign Structs at the boundaries: what the wizard and the API send, and what they get back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from core.web.pagination import PageNumber, PerPageNumber
from core.web.params import Id

CASCADE_STEPS_MAX = 2
"""A cascade's later steps at most (CMP-7): with the first, three channels."""


class CascadeStepIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A further channel of a cascade (CMP-7), tried for the recipients the step before did not reach."""

    channel: Annotated[str, Meta(min_length=1, max_length=40)]
    sender_id: Id
    fallback_ttl: (
        Annotated[
            int,
            Meta(ge=1, le=72 * 3600, description="Seconds to wait for delivery before the next step (not on the last)"),
        ]
        | None
    ) = None
    text: Annotated[
        str,
        Meta(
            max_length=2000,
            description="WhatsApp step: the chosen template's body with every parameter filled in (variables allowed);"
            " empty on other channels, which send the campaign's text",
        ),
    ] = ""
    vendor_template_id: Annotated[
        Id | None, Meta(description="WhatsApp step: the approved template it sends (as the campaign's field)")
    ] = None
    header_param: Annotated[str, Meta(max_length=60, description="WhatsApp step: as the campaign's field")] = ""
    button_params: Annotated[
        list[Annotated[str, Meta(max_length=1000)]],
        Meta(max_length=2, description="WhatsApp step: as the campaign's field"),
    ] = []


class CampaignCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new campaign. Recipients: contact groups (or all contacts) and/or numbers; at least one recipient."""

    name: Annotated[str, Meta(max_length=200)] = ""
    channel: Annotated[str, Meta(min_length=1, max_length=40)] = "sms"
    sender_id: Id
    text: Annotated[str, Meta(min_length=1, max_length=2000)]
    flash: bool = False
    image_url: Annotated[str, Meta(max_length=1000, description="Viber: an image shown above the text")] = ""
    button_caption: Annotated[str, Meta(max_length=30, description="Viber: the button's caption")] = ""
    button_url: Annotated[str, Meta(max_length=1000, description="Viber: where the button leads")] = ""
    template_id: Annotated[Id | None, Meta(description="The template it is made from (TPL-5)")] = None
    vendor_template_id: Annotated[
        Id | None,
        Meta(description="WhatsApp: the approved template it sends; the text is its body, parameters filled in"),
    ] = None
    header_param: Annotated[
        str,
        Meta(
            max_length=60,
            description="WhatsApp: the value of the template's text header parameter {{1}}, the same for every"
            " recipient (no variables)",
        ),
    ] = ""
    button_params: Annotated[
        list[Annotated[str, Meta(max_length=1000)]],
        Meta(
            max_length=2,
            description="WhatsApp: one value per link button whose URL ends in {{1}}, in the buttons' order, the same"
            " for every recipient (no variables)",
        ),
    ] = []
    short_url: Annotated[
        str, Meta(max_length=1000, description="A link of the text to shorten, one code per recipient (URL-1)")
    ] = ""
    short_domain: Annotated[str, Meta(max_length=253, description="One of the company's short domains")] = ""
    group_ids: list[Id] = []
    all_contacts: bool = False
    numbers: Annotated[list[str], Meta(max_length=1_000_000)] = []
    country_code: Annotated[str, Meta(max_length=4, description="Added to numbers typed without one")] = ""
    send_at: datetime | None = None
    timezone: Annotated[str, Meta(max_length=60)] = "UTC"
    notify_emails: Annotated[list[str], Meta(max_length=10)] = []
    validity_hours: Annotated[int, Meta(ge=1, le=72)] = 48
    window_from: Annotated[
        str, Meta(max_length=5, description="Quiet hours (CMP-8): send only from this HH:MM, recipient's local time")
    ] = ""
    window_until: Annotated[
        str, Meta(max_length=5, description="… until this HH:MM (before window_from: the window spans midnight)")
    ] = ""
    max_per_second: (
        Annotated[int, Meta(ge=1, le=10_000, description="Throughput limit: at most this many messages per second")]
        | None
    ) = None
    fallback_ttl: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=72 * 3600,
                description="Cascade (CMP-7): seconds the first channel has to deliver before the next one is tried",
            ),
        ]
        | None
    ) = None
    cascade: Annotated[
        list[CascadeStepIn],
        Meta(
            max_length=CASCADE_STEPS_MAX,
            description="Cascade: the channels tried next, in order (SMS, if any, last)",
        ),
    ] = []
    file: Annotated[
        str,
        Meta(
            max_length=32,
            description="Campaign from file (CMP-6): a file uploaded to /api/campaigns/files; its rows are the"
            " recipients, and the text (then optional) is for rows without their own",
        ),
    ] = ""
    file_columns: Annotated[
        list[str],
        Meta(
            max_length=200,
            description="The file's columns in order, each destination (exactly one), text (at most one), variable"
            " (its cells fill {variable}) or empty (unused)",
        ),
    ] = []


class FileColumn(msgspec.Struct, kw_only=True):
    """One column of an uploaded campaign file."""

    title: str
    """Its header, or "Column N" when the file has none."""
    variable: str
    """The variable its cells fill in the text, as {variable}."""
    role: str
    """What it is suggested as: destination, text, variable or empty."""
    samples: list[str]
    """Its first cells below the header."""


class FileUpload(msgspec.Struct, kw_only=True):
    """A campaign file kept for creating the campaign: its id, its columns and its first lines (CMP-6)."""

    file: str
    name: str
    size: int
    has_header: bool
    columns: list[FileColumn]


class InvalidRow(msgspec.Struct, kw_only=True):
    line: int
    value: str
    reason: str


class NumbersCheck(msgspec.Struct, kw_only=True):
    """Manual or uploaded numbers after normalisation: what will be sent to, and what was dropped and why."""

    valid: list[str]
    invalid: list[tuple[str, str]]
    duplicates: int


class CostLine(msgspec.Struct, kw_only=True):
    country: str
    network: str
    mccmnc: str
    recipients: int
    parts: int
    rate: Decimal | None
    total: Decimal
    from_pack: bool = False
    """Packs paid for these messages (BIL-4): no rate, nothing off the balance."""
    channel: str = ""
    """The channel of a cascade's step the messages went out on (campaign cost details)."""


class StepCost(msgspec.Struct, kw_only=True):
    """A cascade's later step priced for the worst case: nobody reached on the channel before (CMP-5, CMP-7)."""

    channel: str
    sender: str
    fallback_after: int | None
    """Seconds the step before has to deliver before this step takes over its recipients."""
    recipients: int
    """At most: every recipient the step before could be sent to (priced or paid by a pack there)."""
    parts: int
    no_rate: int
    """Of those, recipients with no rate on this channel: not sent to on it."""
    from_packs: int
    """Of those, recipients whose message the company's packs for this channel pay."""
    total: Decimal
    currency: str


class CostPreview(msgspec.Struct, kw_only=True):
    """What a campaign will cost before it is confirmed (CMP-5), by country and network."""

    recipients: int
    stop_listed: int
    parts_per_message: int
    lines: list[CostLine]
    no_rate: int
    total: Decimal
    currency: str
    billing_mode: str
    waiting: int = 0
    """Recipients outside the send window at the start: their messages wait until it opens where they are."""
    from_packs: int = 0
    """Recipients whose message the company's packs pay for (BIL-4), by the units the packs have left now."""
    pack_units: int = 0
    """The units (messages, or segments on SMS) those messages take from the packs."""
    available: Decimal = Decimal(0)
    """The company's balance plus its credit limit, now."""
    over_balance: bool = False
    """The total exceeds ``available``: the campaign would pause when the money runs out."""
    invalid: int = 0
    """Campaign from file: rows left out for a bad destination or no text (the first ones in ``invalid_rows``)."""
    duplicates: int = 0
    """Campaign from file: rows left out because an earlier row has the same destination."""
    invalid_rows: list[InvalidRow] = []
    steps: list[StepCost] = []
    """A cascade's later channels, in order, each priced as if nobody was reached on the one before; ``total`` is
    the first channel's."""
    worst_case_total: Decimal = Decimal(0)
    """``total`` plus every later step's: what the cascade costs at most (equal to ``total`` without one)."""


class CascadeStepView(msgspec.Struct, kw_only=True):
    """One step of a cascade with its own progress and cost."""

    channel: str
    sender_id: int
    sender: str
    fallback_ttl: int | None
    status: str
    total: int
    sent: int
    delivered: int
    undelivered: int
    failed: int
    cost: Decimal


class CampaignView(msgspec.Struct, kw_only=True):
    id: int
    name: str
    channel: str
    sender_id: int
    sender: str
    text: str
    flash: bool
    image_url: str
    button_caption: str
    button_url: str
    short_url: str
    short_domain: str
    traffic_type: str
    template_id: int | None
    group_ids: list[int]
    all_contacts: bool
    status: str
    status_label: str
    status_reason: str
    scheduled_at: datetime | None
    timezone: str
    notify_emails: list[str]
    validity_hours: int
    window_from: str
    window_until: str
    max_per_second: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    total: int
    stop_listed: int
    sent: int
    delivered: int
    undelivered: int
    failed: int
    cost: Decimal
    reserved: Decimal
    currency: str
    actions: list[str]
    fallback_ttl: int | None = None
    template_name: str = ""
    """WhatsApp: the approved template it sends, with its language."""
    template_language: str = ""
    header_param: str = ""
    button_params: list[str] = []
    steps: list[CascadeStepView] = []
    """A cascade's channels in order, the first being this campaign; its counters and cost add up the steps."""

    @property
    def done(self) -> int:
        """Messages with a final status."""
        return self.delivered + self.undelivered + self.failed


class CampaignFilter(msgspec.Struct, kw_only=True):
    query: str = ""
    status: str = ""
    channel: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    page: PageNumber = 1
    per_page: PerPageNumber = 25
