from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-26T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "prefix indexes for subtree scoping on PostgreSQL"

# Subtree scoping is `path LIKE '/0000000001/%'`. PostgreSQL uses a btree for LIKE prefixes only with the C
# collation or a *_pattern_ops operator class; SQLite's LIKE optimisation needs neither, so this is PG-only.
INDEXES = {
    "partner_path_prefix": "partner (path varchar_pattern_ops)",
    "audit_entry_partner_path_prefix": "audit_entry (partner_path varchar_pattern_ops)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenancy", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        db = engine()
        if isinstance(db, PostgresEngine):
            for name, target in INDEXES.items():
                await db.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop() -> None:
        from core.db import engine

        db = engine()
        if isinstance(db, PostgresEngine):
            for name in INDEXES:
                await db.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
