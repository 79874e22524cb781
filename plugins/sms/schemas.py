"""Settings of the SMS plugin: the vendor's SMPP connection."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from core import N_

# The settings form labels each field by its name (core.dispatch.controllers.settings_fields); listed for the
# catalogue, as are the descriptions, its hints.
FIELD_LABELS = (
    N_("Host"),
    N_("Port"),
    N_("System id"),
    N_("Password"),
    N_("System type"),
    N_("Throughput"),
    N_("Window"),
    N_("Enquire link interval"),
    N_("Response timeout"),
)


class SmppSettings(msgspec.Struct, kw_only=True):
    """One SMPP bind to the vendor's SMSC (CHN-1); the Admin Panel edits these per vendor connection."""

    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 2775
    system_id: Annotated[str, Meta(max_length=16)] = ""
    password: Annotated[str, Meta(max_length=9)] = ""
    system_type: Annotated[str, Meta(max_length=13)] = ""
    throughput: Annotated[int, Meta(ge=1, le=100_000, description=N_("Messages per second"))] = 100
    window: Annotated[int, Meta(ge=1, le=1_000, description=N_("Outstanding submit_sm requests"))] = 50
    enquire_link_interval: Annotated[float, Meta(gt=0, le=3600, description=N_("Keep-alive interval, seconds"))] = 30.0
    response_timeout: Annotated[float, Meta(gt=0, le=300, description=N_("Wait for a response, seconds"))] = 10.0
