"""Periodic jobs of short links: writing the clicks the redirects queued."""

from __future__ import annotations

from typing import Any

from core.shortlinks.clicks import flush


async def flush_clicks(ctx: dict[str, Any]) -> str:
    """Every second: store the queued clicks in bulk (and those a stopped worker left unacknowledged)."""
    return f"{await flush(ctx['portal'])} clicks stored"
