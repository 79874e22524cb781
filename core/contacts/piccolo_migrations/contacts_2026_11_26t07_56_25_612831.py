from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz

ID = "2026-11-26T07:56:25:612831"
VERSION = "1.38.0"
DESCRIPTION = "fewer indexes on contact: created_at alone and the comments trigram cost every import"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="contacts", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Contact",
        tablename="contact",
        column_name="created_at",
        db_column_name="created_at",
        params={"index": False},
        old_params={"index": True},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    async def drop_comments_trigram() -> None:
        # Comments are rarely filtered; their trigram index slowed every import for little gain.
        from piccolo.engine.postgres import PostgresEngine

        from core.db import engine

        if isinstance(engine(), PostgresEngine):
            await engine().run_ddl("DROP INDEX IF EXISTS contact_comments_trgm")

    manager.add_raw(drop_comments_trigram)
    return manager
