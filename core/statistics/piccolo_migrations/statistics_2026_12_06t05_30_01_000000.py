from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-06T05:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "EDR rollups: unique key, triggers on edr that append deltas, backfill of existing EDRs"

# Every path that writes EDRs or changes their status or price (campaign dispatch, the public API, receipts, the
# sweeper's expiry, viber/whatsapp webhooks, deletes) is covered because the triggers sit on the table itself.
# PostgreSQL: statement-level triggers with transition tables, one INSERT … SELECT … GROUP BY per statement (a COPY
# of 20,000 EDRs adds a handful of delta rows). SQLite (embedded mode): row-level triggers.
# The migration runs in one transaction: creating the triggers locks edr against writes until the backfill commits,
# so no EDR is counted twice or missed.

KEY = "partner, hour, channel, status, sender, country_iso"
COLUMNS = f"{KEY}, messages, cost"
STATUS_KEY = "partner, hour, channel, status"
PG_HOUR = "date_trunc('hour', {t}.created_at, 'UTC')"
# The graphs' table is the fine one summed over sender ID and country.
STATUS_BACKFILL = f"""
    INSERT INTO edr_rollup_status ({STATUS_KEY}, messages, cost)
    SELECT {STATUS_KEY}, sum(messages), sum(cost) FROM edr_rollup GROUP BY {STATUS_KEY}
"""

POSTGRES = [
    f"CREATE UNIQUE INDEX edr_rollup_key ON edr_rollup ({KEY})",
    f"CREATE UNIQUE INDEX edr_rollup_status_key ON edr_rollup_status ({STATUS_KEY})",
    "CREATE INDEX edr_rollup_delta_partner_hour ON edr_rollup_delta (partner, hour)",
    # Folds update the current hours' rows over and over: room on the page keeps those updates HOT.
    "ALTER TABLE edr_rollup SET (fillfactor = 80)",
    "ALTER TABLE edr_rollup_status SET (fillfactor = 80)",
    f"""
    CREATE FUNCTION edr_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO edr_rollup_delta ({COLUMNS})
        SELECT n.partner, {PG_HOUR.format(t="n")}, n.channel, n.status, n.sender, n.country_iso, count(*), sum(n.price)
        FROM new_rows n GROUP BY 1, 2, 3, 4, 5, 6;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION edr_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO edr_rollup_delta ({COLUMNS})
        SELECT o.partner, {PG_HOUR.format(t="o")}, o.channel, o.status, o.sender, o.country_iso, -count(*), -sum(o.price)
        FROM old_rows o GROUP BY 1, 2, 3, 4, 5, 6;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION edr_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- The rows after (+1) and before (-1), grouped by key: an update that changed no key nor price cancels
        -- out, with no join of the two tables.
        INSERT INTO edr_rollup_delta ({COLUMNS})
        SELECT partner, hour, channel, status, sender, country_iso, sum(messages), sum(cost)
        FROM (
            SELECT n.partner, {PG_HOUR.format(t="n")} AS hour, n.channel, n.status, n.sender, n.country_iso,
                   1 AS messages, n.price AS cost
            FROM new_rows n
            UNION ALL
            SELECT o.partner, {PG_HOUR.format(t="o")}, o.channel, o.status, o.sender, o.country_iso, -1, -o.price
            FROM old_rows o
        ) AS d
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(messages) <> 0 OR sum(cost) <> 0;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER edr_rollup_inserted AFTER INSERT ON edr REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION edr_rollup_inserted()",
    "CREATE TRIGGER edr_rollup_updated AFTER UPDATE ON edr REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION edr_rollup_updated()",
    "CREATE TRIGGER edr_rollup_deleted AFTER DELETE ON edr REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION edr_rollup_deleted()",
    f"""
    INSERT INTO edr_rollup ({COLUMNS})
    SELECT partner, {PG_HOUR.format(t="edr")}, channel, status, sender, country_iso, count(*), sum(price)
    FROM edr GROUP BY 1, 2, 3, 4, 5, 6
    """,
    STATUS_BACKFILL,
]

# SQLite keeps timestamps as text, '2026-12-06 04:47:23.123456+00:00'; the hour is written the same way.
SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00+00:00', {t}.created_at)"
SQLITE_CHANGED = " OR ".join(
    f"old.{c} IS NOT new.{c}" for c in ("status", "price", "partner", "created_at", "channel", "sender", "country_iso")
)


def _values(t: str, sign: str) -> str:
    hour = SQLITE_HOUR.format(t=t)
    return f"({t}.partner, {hour}, {t}.channel, {t}.status, {t}.sender, {t}.country_iso, {sign}1, {sign}{t}.price)"


SQLITE = [
    f"CREATE UNIQUE INDEX edr_rollup_key ON edr_rollup ({KEY})",
    f"CREATE UNIQUE INDEX edr_rollup_status_key ON edr_rollup_status ({STATUS_KEY})",
    "CREATE INDEX edr_rollup_delta_partner_hour ON edr_rollup_delta (partner, hour)",
    f"""
    CREATE TRIGGER edr_rollup_inserted AFTER INSERT ON edr BEGIN
        INSERT INTO edr_rollup_delta ({COLUMNS}) VALUES {_values("new", "")};
    END
    """,
    f"""
    CREATE TRIGGER edr_rollup_updated AFTER UPDATE ON edr WHEN {SQLITE_CHANGED} BEGIN
        INSERT INTO edr_rollup_delta ({COLUMNS}) VALUES {_values("old", "-")}, {_values("new", "")};
    END
    """,
    f"""
    CREATE TRIGGER edr_rollup_deleted AFTER DELETE ON edr BEGIN
        INSERT INTO edr_rollup_delta ({COLUMNS}) VALUES {_values("old", "-")};
    END
    """,
    f"""
    INSERT INTO edr_rollup ({COLUMNS})
    SELECT partner, {SQLITE_HOUR.format(t="edr")}, channel, status, sender, country_iso, count(*), sum(price)
    FROM edr GROUP BY 1, 2, 3, 4, 5, 6
    """,
    STATUS_BACKFILL,
]

DROP_POSTGRES = [
    "DROP TRIGGER IF EXISTS edr_rollup_inserted ON edr",
    "DROP TRIGGER IF EXISTS edr_rollup_updated ON edr",
    "DROP TRIGGER IF EXISTS edr_rollup_deleted ON edr",
    "DROP FUNCTION IF EXISTS edr_rollup_inserted()",
    "DROP FUNCTION IF EXISTS edr_rollup_updated()",
    "DROP FUNCTION IF EXISTS edr_rollup_deleted()",
    "DELETE FROM edr_rollup_delta",
    "DELETE FROM edr_rollup",
    "DELETE FROM edr_rollup_status",
    "DROP INDEX IF EXISTS edr_rollup_key",
    "DROP INDEX IF EXISTS edr_rollup_status_key",
    "DROP INDEX IF EXISTS edr_rollup_delta_partner_hour",
]
DROP_SQLITE = [
    "DROP TRIGGER IF EXISTS edr_rollup_inserted",
    "DROP TRIGGER IF EXISTS edr_rollup_updated",
    "DROP TRIGGER IF EXISTS edr_rollup_deleted",
    "DELETE FROM edr_rollup_delta",
    "DELETE FROM edr_rollup",
    "DELETE FROM edr_rollup_status",
    "DROP INDEX IF EXISTS edr_rollup_key",
    "DROP INDEX IF EXISTS edr_rollup_status_key",
    "DROP INDEX IF EXISTS edr_rollup_delta_partner_hour",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="statistics", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        db = engine()
        for statement in POSTGRES if isinstance(db, PostgresEngine) else SQLITE:
            await db.run_ddl(statement)

    async def drop() -> None:
        from core.db import engine

        db = engine()
        for statement in DROP_POSTGRES if isinstance(db, PostgresEngine) else DROP_SQLITE:
            await db.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
