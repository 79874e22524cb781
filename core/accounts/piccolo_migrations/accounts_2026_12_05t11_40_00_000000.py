from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T11:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "API keys sign their callbacks with a secret of their own; existing keys get one"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_column(
        table_class_name="ApiKey",
        tablename="api_key",
        column_name="callback_secret",
        db_column_name="callback_secret",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    async def fill() -> None:
        import secrets

        from core.db import engine

        # A key made before this migration must still sign its callbacks: each gets a random secret of its own
        # (hex digits only, so the literal is safe in the statement).
        for row in await engine().run_ddl("SELECT id FROM api_key"):
            secret = "cbs_" + secrets.token_hex(24)
            await engine().run_ddl(f"UPDATE api_key SET callback_secret = '{secret}' WHERE id = {int(row['id'])}")

    manager.add_raw(fill)
    return manager
