"""Click statistics of the built-in shortener (URL-3): totals, unique recipients, by OS, browser and day."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core import ClickStats, LinkGroup, PartnerScope
from plugins.shortener.tables import LinkClick

# ruff: noqa: S608 — the statements interpolate fixed column names and placeholders only.


def _sqlite() -> bool:
    return LinkClick._meta.db.engine_type == "sqlite"


def _partners(scope: PartnerScope) -> tuple[str, list[Any]]:
    """``partner`` in the scope: a subtree as a sub-select of the portal's partner table (the shortener shares its
    database), so no page view ships a large subtree's ids; listed ids as one array parameter on PostgreSQL."""
    if scope.subtree:
        # Paths are zero-padded ids and slashes: nothing in them is a LIKE wildcard.
        return "partner IN (SELECT id FROM partner WHERE path LIKE {})", [f"{scope.subtree}%"]
    ids = sorted(set(scope.ids))
    if _sqlite():
        return f"partner IN ({', '.join('{}' for _ in ids) or 'NULL'})", list(ids)
    return "partner = ANY({})", [ids]


def _where(
    scope: PartnerScope, domain: str | None, campaign_id: int | None, since: datetime | None
) -> tuple[str, list[Any]]:
    clause, args = _partners(scope)
    clauses = [clause]
    if domain is not None:
        clauses.append("domain = {}")
        args.append(domain)
    if campaign_id is not None:
        clauses.append("campaign = {}")
        args.append(campaign_id)
    if since is not None:
        clauses.append("clicked_at >= {}")
        args.append(since)
    return " AND ".join(clauses), args


async def _rows(sql: str, args: list[Any]) -> list[dict[str, Any]]:
    return await LinkClick.raw(sql, *args)


async def _counted(column: str, where: str, args: list[Any]) -> list[tuple[str, int]]:
    rows = await _rows(
        f"SELECT {column} AS name, COUNT(*) AS n FROM link_click WHERE {where} GROUP BY {column} ORDER BY n DESC, name",
        args,
    )
    return [(r["name"] or "Other", int(r["n"])) for r in rows]


async def _by_day(where: str, args: list[Any], zone: str) -> list[tuple[str, int]]:
    """Clicks per day in ``zone``: PostgreSQL converts each time itself; SQLite (development) has no zones, so its
    clicks are counted per UTC minute and the minutes put in their local days here."""
    if not _sqlite():
        rows = await _rows(
            "SELECT to_char(clicked_at AT TIME ZONE {}, 'YYYY-MM-DD') AS name, COUNT(*) AS n FROM link_click"
            f" WHERE {where} GROUP BY 1 ORDER BY 1",
            [zone, *args],
        )
        return [(str(r["name"]), int(r["n"])) for r in rows]
    rows = await _rows(
        f"SELECT substr(clicked_at, 1, 16) AS name, COUNT(*) AS n FROM link_click WHERE {where} GROUP BY 1", args
    )
    local = ZoneInfo(zone)
    days: dict[str, int] = defaultdict(int)
    for r in rows:
        minute = datetime.fromisoformat(str(r["name"])).replace(tzinfo=UTC)
        days[minute.astimezone(local).date().isoformat()] += int(r["n"])
    return sorted(days.items())


async def statistics(
    scope: PartnerScope,
    *,
    domain: str | None,
    campaign_id: int | None,
    since: datetime | None,
    zone: str = "UTC",
) -> ClickStats:
    where, args = _where(scope, domain, campaign_id, since)
    totals = await _rows(f"SELECT COUNT(*) AS n, COUNT(DISTINCT link) AS u FROM link_click WHERE {where}", args)
    return ClickStats(
        total=int(totals[0]["n"]),
        unique_recipients=int(totals[0]["u"]),
        by_os=await _counted("os", where, args),
        by_browser=await _counted("browser", where, args),
        by_day=await _by_day(where, args, zone),
    )


async def link_groups(scope: PartnerScope) -> list[LinkGroup]:
    partners, args = _partners(scope)
    rows = await _rows(
        "SELECT domain, campaign, COUNT(*) AS n,"
        " MIN(CASE WHEN inactive_at IS NULL OR inactive_at > {} THEN 0 ELSE 1 END) AS archived,"
        f" MAX(id) AS newest FROM short_link WHERE {partners} GROUP BY domain, campaign ORDER BY newest DESC",
        [datetime.now(UTC), *args],
    )
    return [
        LinkGroup(domain=r["domain"], campaign_id=r["campaign"], links=int(r["n"]), archived=bool(r["archived"]))
        for r in rows
    ]
