from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-26T07:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "trigram indexes for 'contains' filters on PostgreSQL"

# The contacts table filters with ILIKE '%text%'. A btree cannot serve that; pg_trgm's GIN index can, which
# keeps a filtered page of a million contacts fast. pg_trgm is a trusted extension (PostgreSQL 13+), so the
# database owner may create it. SQLite has no equivalent; its scans are fine at embedded sizes.
COLUMNS = ("phone", "first_name", "last_name", "comments")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contacts", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        db = engine()
        if isinstance(db, PostgresEngine):
            await db.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for column in COLUMNS:
                await db.run_ddl(
                    f"CREATE INDEX IF NOT EXISTS contact_{column}_trgm ON contact USING gin ({column} gin_trgm_ops)"
                )

    async def drop() -> None:
        from core.db import engine

        db = engine()
        if isinstance(db, PostgresEngine):
            for column in COLUMNS:
                await db.run_ddl(f"DROP INDEX IF EXISTS contact_{column}_trgm")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
