"""Short-link Structs at the boundaries: click statistics and the list of shortened campaigns."""

from __future__ import annotations

from typing import Literal

import msgspec

from core.providers import ClickStats
from core.statistics.dashboard import Client

ClickPeriod = Literal["all", "day", "week", "month", "year"]


class ShortLinkStatistics(msgspec.Struct, kw_only=True):
    """Clicks of the short links in scope over ``period`` (URL-3), for one domain or campaign when given: the
    company's, or a manager's whole subtree (``clients`` to pick one from, ``client_id`` the one picked).
    Periods and ``stats.by_day`` follow the user's ``time_zone``."""

    period: ClickPeriod
    domain: str | None
    campaign_id: int | None
    campaign_name: str
    client_id: int | None = None
    clients: list[Client] = []
    time_zone: str = "UTC"
    stats: ClickStats


class ShortenedCampaign(msgspec.Struct, kw_only=True):
    domain: str
    campaign_id: int | None
    campaign_name: str
    links: int
    archived: bool
