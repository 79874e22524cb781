from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T00:10:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "a vendor template's name and language are unique per vendor connection, as the vendor's account has them"

# Its own migration: a migration's raw steps run before its tables are made.
INDEX = "vendor_template_connection_name"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="message_templates", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        await engine().run_ddl(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON vendor_template (connection, name, language)"
        )

    async def drop() -> None:
        from core.db import engine

        await engine().run_ddl(f"DROP INDEX IF EXISTS {INDEX}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
