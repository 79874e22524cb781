"""Settings of the URL shortener plugin."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class ShortenerSettings(msgspec.Struct, kw_only=True):
    code_length: Annotated[int, Meta(ge=5, le=16)] = 7
    archive_days: Annotated[int, Meta(ge=1, le=3_650, description="Days an inactive link stays")] = 30
