"""The one day-filter rule: whole days in the user's time zone, turned into UTC [start, end) bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def user_zone(name: str | None) -> ZoneInfo:
    """The user's zone; an empty or unknown name (a setting from before a tzdata change) reads as UTC."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def today(zone_name: str | None) -> date:
    """The current day where the user is, the default of filters that show "today"."""
    return datetime.now(user_zone(zone_name)).date()


def day_range(first: date | None, last: date | None, zone_name: str | None) -> tuple[datetime | None, datetime | None]:
    """UTC bounds of the days ``first``..``last`` (both included) in the user's zone: start <= t < end.

    A missing day leaves that side open (None).
    """
    zone = user_zone(zone_name)
    start = datetime.combine(first, time(), zone).astimezone(UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC) if last else None
    return start, end
