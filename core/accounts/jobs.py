"""Accounts jobs: the periodic write of API keys' last-use times, and the password reset mail."""

from __future__ import annotations

from typing import Any

import msgspec

from core.accounts.api_keys import flush_usage
from core.accounts.registration import mail_reset_link
from core.tenancy.resolver import PortalContext


async def flush_api_key_usage(ctx: dict[str, Any]) -> int:
    """Runs every minute (cron), so "last used" is at most a minute stale without a write per request."""
    return await flush_usage(ctx["portal"].redis)


async def send_reset_link(ctx: dict[str, Any], *, site: dict[str, Any], email: str) -> None:
    """Queued by every reset request, known address or not (see registration.request_reset)."""
    await mail_reset_link(ctx["portal"], msgspec.convert(site, PortalContext), email)
