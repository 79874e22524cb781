"""The Redis stream that carries clicks from the redirect to the click worker, so a redirect never writes SQL."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.providers import LinkTarget

STREAM = "shortener:clicks"
GROUP = "click-writers"
MAX_LENGTH = 5_000_000  # a safety cap (approximate trim) should the workers stop for long


class ClickEntry(msgspec.Struct, array_like=True):
    """One click as the redirect saw it; the worker parses the user agent, off the request path."""

    target: LinkTarget
    clicked_at: datetime
    user_agent: str


ENCODER = msgspec.msgpack.Encoder()
DECODER = msgspec.msgpack.Decoder(ClickEntry)
