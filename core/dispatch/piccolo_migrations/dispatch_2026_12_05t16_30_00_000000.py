from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index MO messages by (partner, received_at) for the dashboard's MO graphs"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)

    async def index() -> None:
        from core.db import engine

        await engine().run_ddl("CREATE INDEX inbound_message_partner_received ON inbound_message (partner, received_at)")

    manager.add_raw(index)
    return manager
