from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-05T17:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a click's stream entry is stored once (its own migration: raw steps run before a migration's columns)"

INDEX = "link_click_entry"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="shortener", description=DESCRIPTION)

    async def create() -> None:
        # Two workers that both store one entry (a claim of a slow worker's pending entries) keep one row; clicks
        # stored without an entry id (NULL) never collide.
        await engine_finder().run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON link_click (entry)")

    async def drop() -> None:
        await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {INDEX}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
