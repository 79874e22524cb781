from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-05T07:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "prefix index for subtree scoping of requests on PostgreSQL"

# A migration's raw steps run before its tables are added, so the index of the new table needs its own file.


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenancy", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        db = engine()
        if isinstance(db, PostgresEngine):
            await db.run_ddl(
                "CREATE INDEX IF NOT EXISTS partner_request_path_prefix"
                " ON partner_request (partner_path varchar_pattern_ops)"
            )

    async def drop() -> None:
        from core.db import engine

        db = engine()
        if isinstance(db, PostgresEngine):
            await db.run_ddl("DROP INDEX IF EXISTS partner_request_path_prefix")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
