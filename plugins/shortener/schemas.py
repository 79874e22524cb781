"""Settings of the URL shortener plugin."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class ShortenerSettings(msgspec.Struct, kw_only=True):
    code_length: Annotated[int, Meta(ge=8, le=16, description="Characters per code; 8 carry over 45 random bits")] = 8
    active_days: Annotated[
        int, Meta(ge=1, le=3_650, description="Days after its campaign finished that a link still redirects")
    ] = 90
    archive_days: Annotated[int, Meta(ge=1, le=3_650, description="Days an inactive link stays in the archive")] = 30
