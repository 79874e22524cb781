"""Settings of the Viber plugin and the aggregator's JSON messages (protocols.md §3)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from core import N_

# message_type: 106 text only, 108 text with an image and/or a button (206/208 are the two-way variants).
TEXT_ONLY = 106
RICH = 108
# source_type, the traffic type Viber bills by: a message with an image or a button is promotion.
PROMOTION = 1
TRANSACTION = 2
MIN_TTL, MAX_TTL = 30, 1_209_600  # what Viber accepts: 30 s to 14 days


# The settings form labels each field by its name (core.dispatch.controllers.settings_fields); listed for the
# catalogue, as are the descriptions, its hints.
FIELD_LABELS = (
    N_("Api url"),
    N_("Api key"),
    N_("Webhook secret"),
    N_("Default ttl"),
    N_("Throughput"),
    N_("Window"),
    N_("Request timeout"),
)


class ViberSettings(msgspec.Struct, kw_only=True):
    """One account with the Viber aggregator (CHN-2); the Admin Panel edits these per vendor connection."""

    api_url: str = "http://127.0.0.1:8781"
    api_key: str = ""
    webhook_secret: Annotated[
        str, Meta(description=N_("Signs the aggregator's callbacks (HMAC-SHA256 of the body)"))
    ] = ""
    default_ttl: Annotated[int, Meta(ge=MIN_TTL, le=MAX_TTL, description=N_("Seconds a message may wait"))] = 3_600
    throughput: Annotated[int, Meta(ge=1, le=10_000, description=N_("Messages per second"))] = 50
    # Enough to cover the aggregator's round trip at the connection's throughput (throughput times seconds per answer).
    window: Annotated[int, Meta(ge=1, le=200, description=N_("Requests in flight"))] = 10
    request_timeout: Annotated[float, Meta(gt=0, le=120, description=N_("Wait for an answer, seconds"))] = 10.0


class SendRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST <api_url>/send-viber, one message."""

    source_addr: str
    destination_addr: str
    message_type: int
    text: str
    source_type: int
    validity_period: int
    callback_url: str = ""
    image: str = ""
    button_caption: str = ""
    button_action: str = ""


class SendAnswer(msgspec.Struct, kw_only=True):
    message_id: int | str


class StatusCallback(msgspec.Struct, kw_only=True):
    """A status report: ``status`` is a word (delivered, seen…) or the aggregator's number (1 = delivered…)."""

    message_id: int | str
    status: int | str
    error_code: int | str = ""
    timestamp: int | float | None = None


class Recipient(msgspec.Struct, kw_only=True):
    phone: int | str


class Content(msgspec.Struct, kw_only=True):
    type: str = "text"
    text: str = ""


class RecipientResponse(msgspec.Struct, kw_only=True, rename={"sender": "from"}):
    recipient: Recipient
    sender: str
    content: Content


class InboundCallback(msgspec.Struct, kw_only=True):
    """A subscriber's reply to one of our sender names (two-way messages)."""

    message_id: int | str
    recipient_response: RecipientResponse
    timestamp: str | int | None = None
