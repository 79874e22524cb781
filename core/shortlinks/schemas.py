"""Short-link Structs at the boundaries: click statistics and the list of shortened campaigns."""

from __future__ import annotations

from typing import Literal

import msgspec

from core.providers import ClickStats

ClickPeriod = Literal["all", "day", "week", "month", "year"]


class ShortLinkStatistics(msgspec.Struct, kw_only=True):
    """Clicks of the company's short links over ``period`` (URL-3), for one domain or campaign when given."""

    period: ClickPeriod
    domain: str | None
    campaign_id: int | None
    campaign_name: str
    stats: ClickStats


class ShortenedCampaign(msgspec.Struct, kw_only=True):
    domain: str
    campaign_id: int | None
    campaign_name: str
    links: int
    archived: bool
