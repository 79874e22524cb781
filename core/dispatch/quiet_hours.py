"""Quiet hours (CMP-8): a send window in the recipient's local time, in minutes after midnight."""

from __future__ import annotations

from datetime import datetime

from core.web.periods import user_zone


def parse_clock(text: str) -> int:
    """'09:30' → 570.

    Raises:
        ValueError: not an HH:MM time of day.
    """
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(text)
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(text)
    return int(hours) * 60 + int(minutes)


def clock(minutes: int) -> str:
    """570 → '09:30'."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def is_open(start: int, end: int, zone: str, now: datetime) -> bool:
    """Whether local time in ``zone`` at ``now`` is in [start, end); a window whose end is before its start wraps
    past midnight (22:00 to 06:00)."""
    local = now.astimezone(user_zone(zone))
    minute = local.hour * 60 + local.minute
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end
