from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T06:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique keys and filter indexes of contacts"

# Unique keys the services rely on (imports upsert ON CONFLICT (partner, phone)), and the indexes the
# contacts table filters and sorts on. Plain SQL that SQLite and PostgreSQL both accept.
STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS contact_partner_phone ON contact (partner, phone)",
    "CREATE INDEX IF NOT EXISTS contact_partner_created ON contact (partner, created_at)",
    "CREATE INDEX IF NOT EXISTS contact_partner_updated ON contact (partner, updated_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS contact_group_member_pair ON contact_group_member (contact, \"group\")",
    "CREATE UNIQUE INDEX IF NOT EXISTS contact_block_pair ON contact_block (contact, sender)",
    "CREATE INDEX IF NOT EXISTS contact_block_sender ON contact_block (sender)",
    "CREATE UNIQUE INDEX IF NOT EXISTS contact_field_variable ON contact_field (partner, variable)",
    "CREATE UNIQUE INDEX IF NOT EXISTS table_setting_user_table ON table_setting (\"user\", table_name)",
    "CREATE UNIQUE INDEX IF NOT EXISTS sender_partner_channel_name ON sender (partner, channel, name)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contacts", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    async def drop() -> None:
        from core.db import engine

        for statement in STATEMENTS:
            name = statement.split(" ON ")[0].split()[-1]
            await engine().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
