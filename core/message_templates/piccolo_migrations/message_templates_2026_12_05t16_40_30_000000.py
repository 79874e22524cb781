from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T16:40:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "a reply template's name is unique per partner without case, in the database too"

# Its own migration: a migration's raw steps run before its tables are made.
INDEX = "reply_template_partner_name"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="message_templates", description=DESCRIPTION)

    async def create() -> None:
        # Two requests at once both pass the service's name check on PostgreSQL; the index keeps one.
        from core.db import engine

        await engine().run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON reply_template (partner, lower(name))")

    async def drop() -> None:
        from core.db import engine

        await engine().run_ddl(f"DROP INDEX IF EXISTS {INDEX}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
