"""Click statistics of the built-in shortener (URL-3): totals, unique recipients, by OS, browser and day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core import ClickStats, LinkGroup
from plugins.shortener.tables import LinkClick

# ruff: noqa: S608 — the statements interpolate fixed column names and placeholders only.


def _where(
    partner_id: int, domain: str | None, campaign_id: int | None, since: datetime | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = ["partner = {}"]
    args: list[Any] = [partner_id]
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


async def statistics(
    partner_id: int, *, domain: str | None, campaign_id: int | None, since: datetime | None
) -> ClickStats:
    where, args = _where(partner_id, domain, campaign_id, since)
    totals = await _rows(f"SELECT COUNT(*) AS n, COUNT(DISTINCT link) AS u FROM link_click WHERE {where}", args)
    day = (
        "substr(clicked_at, 1, 10)"
        if LinkClick._meta.db.engine_type == "sqlite"
        else "to_char(clicked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    )
    by_day = await _rows(
        f"SELECT {day} AS name, COUNT(*) AS n FROM link_click WHERE {where} GROUP BY {day} ORDER BY name", args
    )
    return ClickStats(
        total=int(totals[0]["n"]),
        unique_recipients=int(totals[0]["u"]),
        by_os=await _counted("os", where, args),
        by_browser=await _counted("browser", where, args),
        by_day=[(str(r["name"]), int(r["n"])) for r in by_day],
    )


async def link_groups(partner_id: int) -> list[LinkGroup]:
    rows = await _rows(
        "SELECT domain, campaign, COUNT(*) AS n,"
        " MIN(CASE WHEN inactive_at IS NULL OR inactive_at > {} THEN 0 ELSE 1 END) AS archived,"
        " MAX(id) AS newest FROM short_link WHERE partner = {} GROUP BY domain, campaign ORDER BY newest DESC",
        [datetime.now(UTC), partner_id],
    )
    return [
        LinkGroup(domain=r["domain"], campaign_id=r["campaign"], links=int(r["n"]), archived=bool(r["archived"]))
        for r in rows
    ]
