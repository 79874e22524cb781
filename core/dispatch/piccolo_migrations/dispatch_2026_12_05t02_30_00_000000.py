from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "EDRs remember the API key that sent them and the caller's reference, for delivery callbacks"

_PARAMS = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Edr",
        tablename="edr",
        column_name="api_key",
        db_column_name="api_key",
        column_class_name="Integer",
        column_class=Integer,
        params={**_PARAMS, "default": None, "null": True},
        schema=None,
    )
    manager.add_column(
        table_class_name="Edr",
        tablename="edr",
        column_name="client_ref",
        db_column_name="client_ref",
        column_class_name="Varchar",
        column_class=Varchar,
        params={**_PARAMS, "default": "", "null": False, "length": 64},
        schema=None,
    )
    return manager
