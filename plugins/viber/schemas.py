"""Settings of the Viber plugin: the vendor's HTTP API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class ViberSettings(msgspec.Struct, kw_only=True):
    api_url: str = "http://127.0.0.1:8081/viber"
    api_key: str = ""
    webhook_secret: str = ""
    default_ttl: Annotated[int, Meta(ge=30, le=86_400, description="Seconds a message may wait")] = 3_600
