"""Accounts jobs: the periodic write of API keys' last-use times from Redis to the database."""

from __future__ import annotations

from typing import Any

from core.accounts.api_keys import flush_usage


async def flush_api_key_usage(ctx: dict[str, Any]) -> int:
    """Runs every minute (cron), so "last used" is at most a minute stale without a write per request."""
    return await flush_usage(ctx["portal"].redis)
