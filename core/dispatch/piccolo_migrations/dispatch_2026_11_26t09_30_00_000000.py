from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes on edr and campaign_batch; fillfactor for HOT status updates"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)

    async def composite_indexes() -> None:
        # Batches are read by (campaign, batch); the EDR table is listed per partner, newest first.
        from piccolo.engine.postgres import PostgresEngine

        from core.db import engine

        db = engine()
        await db.run_ddl("CREATE INDEX edr_campaign_batch ON edr (campaign, batch)")
        await db.run_ddl("CREATE INDEX edr_partner_created ON edr (partner, created_at)")
        await db.run_ddl("CREATE INDEX campaign_batch_state ON campaign_batch (campaign, state)")
        if isinstance(db, PostgresEngine):
            # Room on each page for HOT updates: delivery reports rewrite every row once or twice.
            await db.run_ddl("ALTER TABLE edr SET (fillfactor = 85)")

    manager.add_raw(composite_indexes)


    return manager
