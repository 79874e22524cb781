"""Periodic sender ID work for the worker: validity that ran out (SID-2)."""

from __future__ import annotations

from typing import Any

from core.senders.services import expire_senders as _expire


async def expire_senders(ctx: dict[str, Any]) -> int:
    """Cron: switch off the sender IDs whose last day of validity has passed."""
    return await _expire()
