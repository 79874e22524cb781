from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reports find EDRs, parts and early reports by (vendor_message_id, connection)"

# One index per table replaces the one on vendor_message_id alone (the previous migration drops it): vendor ids
# lead, so a report without a connection still finds its rows by id, and one with a connection finds them in the
# index alone. A second index on the edr table would cost every COPYed and every sent row one more entry.
TABLES = ("edr", "edr_part", "early_report")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        for table in TABLES:
            name = f"{table}_vendor_message_id_connection"
            await engine().run_ddl(f"CREATE INDEX {name} ON {table} (vendor_message_id, connection)")

    async def drop() -> None:
        from core.db import engine

        for table in TABLES:
            await engine().run_ddl(f"DROP INDEX IF EXISTS {table}_vendor_message_id_connection")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
