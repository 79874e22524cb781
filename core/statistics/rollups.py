"""EDR rollups (DSH-2): messages and cost per (partner, UTC hour, channel, status, sender ID, country).

Triggers on ``edr`` (a migration's raw DDL) append signed deltas to ``edr_rollup_delta`` whatever path writes the
EDRs; :func:`fold` adds them into ``edr_rollup`` in one statement per batch (a worker cron every few seconds). A read
is one statement over the rollup and the deltas not folded yet, so it is exact at any moment, late receipts and
expiry included. Periods are cut at whole UTC hours; the parts of an hour at either end (a time zone 30 or 45 minutes
off the hour) are counted straight from the EDRs in the same statement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum
from piccolo.querystring import QueryString

from core import db
from core.dispatch.tables import Edr
from core.rawsql import RawSql
from core.statistics.tables import EdrRollupDelta, EdrRollupStatus

FOLD_BATCH = 100_000
# Folds take this transaction-scoped advisory lock, so two workers never fold at once (nor deadlock on the
# rollup's rows); the one that does not get it leaves the work to the other.
FOLD_LOCK = 0x45445252  # "EDRR"
KEY = "partner, hour, channel, status, sender, country_iso"
STATUS_KEY = "partner, hour, channel, status"

PG_FOLD = f"""
WITH folded AS (
    DELETE FROM edr_rollup_delta
    WHERE id IN (SELECT id FROM edr_rollup_delta ORDER BY id LIMIT $1)
    RETURNING {KEY}, messages, cost
), added AS (
    INSERT INTO edr_rollup ({KEY}, messages, cost)
    SELECT {KEY}, sum(messages), sum(cost) FROM folded
    GROUP BY {KEY} ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE
    SET messages = edr_rollup.messages + excluded.messages, cost = edr_rollup.cost + excluded.cost
), added_by_status AS (
    INSERT INTO edr_rollup_status ({STATUS_KEY}, messages, cost)
    SELECT {STATUS_KEY}, sum(messages), sum(cost) FROM folded
    GROUP BY {STATUS_KEY} ORDER BY {STATUS_KEY}
    ON CONFLICT ({STATUS_KEY}) DO UPDATE
    SET messages = edr_rollup_status.messages + excluded.messages, cost = edr_rollup_status.cost + excluded.cost
)
SELECT count(*) FROM folded
"""  # noqa: S608 — our own names only

SQLITE_FOLDS = [
    f"""
    INSERT INTO {table} ({key}, messages, cost)
    SELECT {key}, sum(messages), sum(cost) FROM edr_rollup_delta WHERE id <= $1
    GROUP BY {key}
    ON CONFLICT ({key}) DO UPDATE
    SET messages = {table}.messages + excluded.messages, cost = {table}.cost + excluded.cost
    """  # noqa: S608 — our own names only
    for table, key in (("edr_rollup", KEY), ("edr_rollup_status", STATUS_KEY))
]


async def fold(batch: int = FOLD_BATCH) -> int:
    """Fold up to ``batch`` waiting deltas into both rollups, in one statement; the number folded (0: nothing waiting,
    or another worker is folding)."""
    async with db.write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=db.is_sqlite())
        if not sql.sqlite:
            if not (await sql.column("SELECT pg_try_advisory_xact_lock($1)", FOLD_LOCK))[0]:
                return 0
            return int((await sql.column(PG_FOLD, batch))[0])
        # SQLite: the write transaction is the lock; the deltas up to an id are added, then removed.
        ids = await sql.column("SELECT id FROM edr_rollup_delta ORDER BY id LIMIT 1 OFFSET $1", batch - 1)
        last = ids[0] if ids else (await sql.column("SELECT max(id) FROM edr_rollup_delta"))[0]
        if last is None:
            return 0
        for statement in SQLITE_FOLDS:
            await sql.execute(statement, last)
        return await sql.execute("DELETE FROM edr_rollup_delta WHERE id <= $1", last)


async def fold_all() -> int:
    """Fold until nothing waits (or another worker holds the fold); the deltas folded."""
    total = 0
    while folded := await fold():
        total += folded
        if folded < FOLD_BATCH:
            break
    return total


def _whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole UTC hours inside [start, end): the first hour's start and the last's end (equal when none)."""
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(hours=1)
    last = end.replace(minute=0, second=0, microsecond=0)
    return (first, last) if first < last else (end, end)


async def by_channel_and_status(partners: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Messages (``n``) and cost per (channel, status) of ``partners`` (ids, or a sub-select of partner ids) created
    in [start, end): one statement over the rollup, its unfolded deltas and the EDRs of any part-hours at the ends."""
    first, last = _whole_hours(start, end)
    parts: list[Any] = []
    for table in (EdrRollupStatus, EdrRollupDelta):
        parts.append(
            table.select(table.channel, table.status, Sum(table.messages, alias="n"), Sum(table.cost, alias="cost"))
            .where(table.partner.is_in(partners) & (table.hour >= first) & (table.hour < last))
            .group_by(table.channel, table.status)
        )
    for lo, hi in ((start, first), (last, end)):
        if lo < hi:
            parts.append(
                Edr.select(Edr.channel, Edr.status, Count(alias="n"), Sum(Edr.price, alias="cost"))
                .where(Edr.partner.is_in(partners) & (Edr.created_at >= lo) & (Edr.created_at < hi))
                .group_by(Edr.channel, Edr.status)
            )
    # Parenthesised members of a UNION are PostgreSQL's only; a sub-select each reads on both engines.
    union = " UNION ALL ".join(f"SELECT * FROM ({{}}) AS p{i}" for i in range(len(parts)))  # noqa: S608
    query = QueryString(
        f"SELECT channel, status, SUM(n) AS n, SUM(cost) AS cost FROM ({union}) AS t GROUP BY channel, status",  # noqa: S608
        *(part.querystrings[0] for part in parts),
    )
    rows = await db.engine().run_querystring(query)
    return [
        {"channel": r["channel"], "status": r["status"], "n": int(r["n"] or 0), "cost": int(r["cost"] or 0)}
        for r in rows
    ]
