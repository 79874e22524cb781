"""The built-in URL shortener: per-recipient codes in this installation's database, resolved from a memory cache."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from core import Click, ClickStats, LinkGroup, LinkRecipient, LinkTarget, ShortLink
from plugins.shortener import statistics as stats
from plugins.shortener.codes import new_codes
from plugins.shortener.schemas import ShortenerSettings
from plugins.shortener.tables import LinkClick, ShortLinkRow

BATCH = 500  # links per INSERT: 7 parameters each stays far below either database's limit
CACHE_SIZE = 100_000
CACHE_SECONDS = 60.0  # an archived link stops redirecting within this time in every process
_LINK_COLUMNS = "code, domain, url, partner, campaign, destination, created_at"


class LinkCache:
    """(domain, code) → target or None, least recently used first out, each entry for CACHE_SECONDS."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[float, LinkTarget | None]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[bool, LinkTarget | None]:
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        self._entries.move_to_end(key)
        return True, hit[1]

    def put(self, key: tuple[str, str], target: LinkTarget | None) -> None:
        self._entries[key] = (time.monotonic() + CACHE_SECONDS, target)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


class LocalShortener:
    """Links served by this installation on the short domains the owner grants (URL-1, URL-2)."""

    name: ClassVar[str] = "local"
    label: ClassVar[str] = "Built-in shortener"
    settings_type: ClassVar[type[ShortenerSettings]] = ShortenerSettings

    def __init__(self, settings: ShortenerSettings | None = None) -> None:
        self.settings = settings or ShortenerSettings()
        self.cache = LinkCache()

    def preview(self, domain: str) -> str:
        return f"{domain}/{'x' * self.settings.code_length}"

    async def shorten(self, domain: str, url: str, recipients: Sequence[LinkRecipient]) -> Sequence[ShortLink]:
        now = datetime.now(UTC)
        codes: list[str] = []
        for start in range(0, len(recipients), BATCH):
            codes += await self._insert(domain, url, recipients[start : start + BATCH], now)
        return [ShortLink(code=code, short_url=f"{domain}/{code}") for code in codes]

    async def _insert(self, domain: str, url: str, recipients: Sequence[LinkRecipient], now: datetime) -> list[str]:
        """One INSERT for the batch; a code that happens to exist already is drawn again (rare: 45+ bits)."""
        codes = new_codes(len(recipients), self.settings.code_length)
        pending = list(range(len(recipients)))
        while pending:
            args: list[Any] = []
            for i in pending:
                r = recipients[i]
                args += [codes[i], domain, url, r.partner_id, r.campaign_id, r.destination, now]
            values = ", ".join(["({}, {}, {}, {}, {}, {}, {})"] * len(pending))
            insert = f"INSERT INTO short_link ({_LINK_COLUMNS}) VALUES {values}"  # noqa: S608 — placeholders only
            stored = await ShortLinkRow.raw(f"{insert} ON CONFLICT (code) DO NOTHING RETURNING code", *args)
            taken = {row["code"] for row in stored}
            pending = [i for i in pending if codes[i] not in taken]
            for i, code in zip(pending, new_codes(len(pending), self.settings.code_length), strict=True):
                codes[i] = code
        return codes

    async def resolve(self, domain: str, code: str) -> LinkTarget | None:
        key = (domain, code)
        found, target = self.cache.get(key)
        if found:
            return target
        row = (
            await ShortLinkRow.select()
            .where(
                (ShortLinkRow.code == code)
                & (ShortLinkRow.domain == domain)
                & (ShortLinkRow.inactive_at.is_null() | (ShortLinkRow.inactive_at > datetime.now(UTC)))
            )
            .first()
        )
        target = None
        if row is not None:
            recipient = LinkRecipient(
                partner_id=row["partner"], campaign_id=row["campaign"], destination=row["destination"]
            )
            target = LinkTarget(link_id=row["id"], url=row["url"], recipient=recipient, domain=domain)
        self.cache.put(key, target)
        return target

    async def record_click(self, target: LinkTarget, click: Click) -> None:
        await self.record_clicks([(target, click)])

    async def record_clicks(self, clicks: Sequence[tuple[LinkTarget, Click]]) -> None:
        if not clicks:
            return
        await LinkClick.insert(
            *(
                LinkClick(
                    link=t.link_id,
                    partner=t.recipient.partner_id,
                    campaign=t.recipient.campaign_id,
                    domain=t.domain,
                    clicked_at=c.clicked_at,
                    os=c.os[:60],
                    browser=c.browser[:60],
                    device=c.device[:60],
                )
                for t, c in clicks
            )
        )

    async def statistics(
        self,
        partner_id: int,
        *,
        domain: str | None = None,
        campaign_id: int | None = None,
        since: datetime | None = None,
    ) -> ClickStats:
        return await stats.statistics(partner_id, domain=domain, campaign_id=campaign_id, since=since)

    async def link_groups(self, partner_id: int) -> Sequence[LinkGroup]:
        return await stats.link_groups(partner_id)
