from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a template's name is unique per partner without case, in the database too"

# The service checks the name first, but on PostgreSQL two requests at once both pass that check; the index keeps
# one. lower() is SQLite's and PostgreSQL's alike, and both accept an index on an expression.
INDEX = "message_template_partner_name"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="message_templates", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        await engine().run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON message_template (partner, lower(name))")

    async def drop() -> None:
        from core.db import engine

        await engine().run_ddl(f"DROP INDEX IF EXISTS {INDEX}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
