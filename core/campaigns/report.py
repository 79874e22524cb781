"""A campaign's report: its messages by status over time, hour by hour, or day by day in the user's zone when the
campaign spans more than three days. One grouped query on the campaign's EDRs (its ``(campaign, batch)`` index)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from core.actor import Actor
from core.campaigns.services import get_campaign, step_ids
from core.db import is_sqlite
from core.dispatch.tables import Edr

MAX_HOURS = 72  # more hourly points than this and the graph counts days
ORDER = ("SENT", "DELIVERED", "SEEN", "UNDELIVERED", "FAILED", "BILLED", "PREPARED")


class TimelinePoint(msgspec.Struct, kw_only=True):
    """The messages sent (or, not sent yet, made) in one hour or day, by their status now."""

    start: datetime
    counts: dict[str, int]


class Timeline(msgspec.Struct, kw_only=True):
    step: Literal["hour", "day"]
    statuses: list[str]
    points: list[TimelinePoint]


def _hour_sql() -> str:
    # Both give the UTC hour as text; PostgreSQL's date_trunc would otherwise follow the session's time zone.
    if is_sqlite():
        return "strftime('%Y-%m-%d %H:00:00', COALESCE(sent_at, created_at))"
    return "to_char(date_trunc('hour', COALESCE(sent_at, created_at) AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:00:00')"


async def timeline(actor: Actor, campaign_id: int) -> Timeline:
    """The campaign's messages by status per hour (per day of the user's zone beyond ``MAX_HOURS`` hours)."""
    view = await get_campaign(actor, campaign_id)  # another tenant's id is a 404
    # A cascade's later steps are campaigns of their own (CMP-7): their attempts count here too.
    steps = await step_ids(campaign_id) if view.steps else []
    ids = ", ".join(str(int(i)) for i in [campaign_id, *steps])
    rows = await Edr.raw(
        f"SELECT {_hour_sql()} AS hour, status, COUNT(*) AS n FROM edr WHERE campaign IN ({ids}) GROUP BY 1, 2"  # noqa: S608
    )
    hours: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        hours[datetime.fromisoformat(r["hour"]).replace(tzinfo=UTC)][r["status"]] += r["n"]
    step: Literal["hour", "day"] = "hour"
    buckets: dict[datetime, dict[str, int]] = hours
    if len(hours) > 1 and (max(hours) - min(hours)).total_seconds() / 3600 > MAX_HOURS:
        step, zone = "day", ZoneInfo(actor.timezone)
        buckets = defaultdict(lambda: defaultdict(int))
        for hour, counts in hours.items():
            local = hour.astimezone(zone)
            day = local.replace(hour=0, minute=0, second=0, microsecond=0)
            for status, n in counts.items():
                buckets[day][status] += n
    seen = {s for counts in buckets.values() for s in counts}
    return Timeline(
        step=step,
        statuses=[s for s in ORDER if s in seen] + sorted(seen - set(ORDER)),
        points=[TimelinePoint(start=at, counts=dict(buckets[at])) for at in sorted(buckets)],
    )
