"""The archive (URL-3): links of a finished campaign stop redirecting after ``active_days``, stay in the archive
(their statistics still shown) for ``archive_days``, then a periodic job deletes them with their clicks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from plugins.shortener.provider import LocalShortener
from plugins.shortener.schemas import ShortenerSettings
from plugins.shortener.tables import LinkClick, ShortLinkRow

FINISHED = frozenset({"completed", "failed", "canceled"})


async def schedule_inactive(shortener: LocalShortener, campaign_id: int, finished_at: datetime | None = None) -> None:
    """Set when the campaign's links go to the archive: ``active_days`` after it finished."""
    when = (finished_at or datetime.now(UTC)) + timedelta(days=shortener.settings.active_days)
    await ShortLinkRow.update({ShortLinkRow.inactive_at: when}).where(ShortLinkRow.campaign == campaign_id)
    await shortener.end_campaign(campaign_id, when)


async def purge(settings: ShortenerSettings, now: datetime | None = None) -> int:
    """Delete the links archived for longer than ``archive_days``, and their clicks; returns the links deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.archive_days)
    expired = ShortLinkRow.inactive_at < cutoff
    old: Any = ShortLinkRow.select(ShortLinkRow.id).where(expired)
    await LinkClick.delete().where(LinkClick.link.is_in(old))
    deleted = await ShortLinkRow.delete().where(expired).returning(ShortLinkRow.id)
    return len(deleted)
