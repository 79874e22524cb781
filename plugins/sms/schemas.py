"""Settings of the SMS plugin: the vendor's SMPP connection."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class SmppSettings(msgspec.Struct, kw_only=True):
    """One SMPP bind to the vendor's SMSC (CHN-1); the Admin Panel edits these per vendor connection."""

    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 2775
    system_id: Annotated[str, Meta(max_length=16)] = ""
    password: Annotated[str, Meta(max_length=9)] = ""
    system_type: Annotated[str, Meta(max_length=13)] = ""
    throughput: Annotated[int, Meta(ge=1, le=100_000, description="Messages per second")] = 100
    window: Annotated[int, Meta(ge=1, le=1_000, description="Outstanding submit_sm requests")] = 50
    enquire_link_interval: Annotated[float, Meta(gt=0, le=3600, description="Keep-alive interval, seconds")] = 30.0
    response_timeout: Annotated[float, Meta(gt=0, le=300, description="Wait for a response, seconds")] = 10.0
