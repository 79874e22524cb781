"""The built-in URL shortener: per-recipient codes in this installation's database, resolved from a memory cache."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
from redis.asyncio import Redis

from core import Click, ClickStats, LinkGroup, LinkRecipient, LinkTarget, PartnerScope, ShortLink
from plugins.shortener import statistics as stats
from plugins.shortener.codes import new_codes
from plugins.shortener.schemas import ShortenerSettings
from plugins.shortener.tables import LinkClick, ShortLinkRow

BATCH = 500  # links per INSERT: 7 parameters each stays far below either database's limit
CACHE_SIZE = 100_000
CACHE_SECONDS = 60.0  # an archived link stops redirecting within this time in every process
# Redis keeps every link from its creation, so that the first click of a recipient (the common case: one click
# per code) waits on neither the database nor a cold process: link:<domain>:<code> → (id, campaign, partner,
# destination, url), and the end of a finished campaign's links under link-end:<campaign>.
LINK_KEY, END_KEY = "link:{}:{}", "link-end:{}"
_PACK = msgspec.msgpack.Encoder()
_UNPACK = msgspec.msgpack.Decoder(tuple[int, int | None, int, str, str])
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
        self._ends: dict[int, tuple[float, float | None]] = {}  # campaign → (cached until, its links' end or None)
        self.redis: Redis | None = None  # the Portal's, given at start-up; without it lookups go to the database

    @property
    def _ttl(self) -> int:
        """Seconds a link stays in Redis: longer than any campaign runs plus its active days (the database keeps
        it after that, and a late click refills the key)."""
        return (self.settings.active_days + 30) * 86_400

    def preview(self, domain: str) -> str:
        return f"{domain}/{'x' * self.settings.code_length}"

    async def shorten(self, domain: str, url: str, recipients: Sequence[LinkRecipient]) -> Sequence[ShortLink]:
        now = datetime.now(UTC)
        codes: list[str] = []
        for start in range(0, len(recipients), BATCH):
            batch = recipients[start : start + BATCH]
            ids = await self._insert(domain, url, batch, now)
            await self._remember(domain, url, batch, ids)
            codes += list(ids)
        return [ShortLink(code=code, short_url=f"{domain}/{code}") for code in codes]

    async def _insert(
        self, domain: str, url: str, recipients: Sequence[LinkRecipient], now: datetime
    ) -> dict[str, int]:
        """One INSERT for the batch; a code that happens to exist already is drawn again (rare: 45+ bits).

        Returns code → link id, in the recipients' order.
        """
        codes = new_codes(len(recipients), self.settings.code_length)
        pending = list(range(len(recipients)))
        ids: dict[str, int] = {}
        while pending:
            args: list[Any] = []
            for i in pending:
                r = recipients[i]
                args += [codes[i], domain, url, r.partner_id, r.campaign_id, r.destination, now]
            values = ", ".join(["({}, {}, {}, {}, {}, {}, {})"] * len(pending))
            insert = f"INSERT INTO short_link ({_LINK_COLUMNS}) VALUES {values}"  # noqa: S608 — placeholders only
            stored = await ShortLinkRow.raw(f"{insert} ON CONFLICT (code) DO NOTHING RETURNING id, code", *args)
            ids.update((row["code"], row["id"]) for row in stored)
            pending = [i for i in pending if codes[i] not in ids]
            for i, code in zip(pending, new_codes(len(pending), self.settings.code_length), strict=True):
                codes[i] = code
        return {code: ids[code] for code in codes}

    async def _remember(self, domain: str, url: str, recipients: Sequence[LinkRecipient], ids: dict[str, int]) -> None:
        # Written before the expansion's transaction commits: should it roll back, the keys name codes nobody
        # was sent, which no one can guess either.
        if self.redis is None:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for (code, link_id), r in zip(ids.items(), recipients, strict=True):
                value = _PACK.encode((link_id, r.campaign_id, r.partner_id, r.destination, url))
                pipe.set(LINK_KEY.format(domain, code), value, ex=self._ttl)
            await pipe.execute()

    async def resolve(self, domain: str, code: str) -> LinkTarget | None:
        key = (domain, code)
        found, target = self.cache.get(key)
        if not found:
            target = await self._from_redis(domain, code) if self.redis is not None else None
            if target is None:
                target = await self._from_database(domain, code)
            self.cache.put(key, target)
        if target is None or await self._ended(target):
            return None
        return target

    async def _from_redis(self, domain: str, code: str) -> LinkTarget | None:
        assert self.redis is not None
        raw: Any = await self.redis.get(LINK_KEY.format(domain, code))
        if raw is None:
            return None
        link_id, campaign, partner, destination, url = _UNPACK.decode(raw)
        recipient = LinkRecipient(partner_id=partner, campaign_id=campaign, destination=destination)
        return LinkTarget(link_id=link_id, url=url, recipient=recipient, domain=domain, code=code)

    async def _from_database(self, domain: str, code: str) -> LinkTarget | None:
        row = (
            await ShortLinkRow.select()
            .where(
                (ShortLinkRow.code == code)
                & (ShortLinkRow.domain == domain)
                & (ShortLinkRow.inactive_at.is_null() | (ShortLinkRow.inactive_at > datetime.now(UTC)))
            )
            .first()
        )
        if row is None:
            return None
        recipient = LinkRecipient(
            partner_id=row["partner"], campaign_id=row["campaign"], destination=row["destination"]
        )
        target = LinkTarget(link_id=row["id"], url=row["url"], recipient=recipient, domain=domain, code=code)
        if self.redis is not None:
            value = _PACK.encode((row["id"], row["campaign"], row["partner"], row["destination"], row["url"]))
            await self.redis.set(LINK_KEY.format(domain, code), value, ex=self._ttl)
        return target

    async def _ended(self, target: LinkTarget) -> bool:
        """Whether the link's campaign has passed the end of its links (they are in the archive)."""
        campaign = target.recipient.campaign_id
        if campaign is None or self.redis is None:
            return False
        now = time.monotonic()
        cached = self._ends.get(campaign)
        if cached is None or cached[0] < now:
            raw = await self.redis.get(END_KEY.format(campaign))
            if len(self._ends) > CACHE_SIZE:
                self._ends.clear()
            cached = (now + CACHE_SECONDS, None if raw is None else float(raw))
            self._ends[campaign] = cached
        return cached[1] is not None and cached[1] <= time.time()

    async def end_campaign(self, campaign_id: int, at: datetime) -> None:
        """The campaign's links stop redirecting at ``at`` (the archive); other processes see it within a minute."""
        if self.redis is not None:
            await self.redis.set(END_KEY.format(campaign_id), at.timestamp(), ex=self._ttl)
        self._ends.pop(campaign_id, None)

    def forget(self) -> None:
        """Drop this process's caches (tests, and after the archive changed links by hand)."""
        self.cache.clear()
        self._ends.clear()

    async def record_click(self, target: LinkTarget, click: Click) -> None:
        await self.record_clicks([(target, click)])

    async def record_clicks(self, clicks: Sequence[tuple[LinkTarget, Click]]) -> None:
        # 1,000 rows of 9 columns per INSERT: PostgreSQL takes at most 32,767 parameters in one statement.
        for start in range(0, len(clicks), 1_000):
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
                        entry=c.key or None,
                    )
                    for t, c in clicks[start : start + 1_000]
                )
            ).on_conflict(target=LinkClick.entry, action="DO NOTHING")

    async def statistics(
        self,
        partners: PartnerScope,
        *,
        domain: str | None = None,
        campaign_id: int | None = None,
        since: datetime | None = None,
        zone: str = "UTC",
    ) -> ClickStats:
        return await stats.statistics(partners, domain=domain, campaign_id=campaign_id, since=since, zone=zone)

    async def link_groups(self, partners: PartnerScope) -> Sequence[LinkGroup]:
        return await stats.link_groups(partners)
