from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Boolean, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "API cascades (channels + fallbackTtl): attempts waiting to be handed on to their next channel"

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
    manager = MigrationManager(migration_id=ID, app_name="public_api", description=DESCRIPTION)
    manager.add_table(class_name="ApiCascade", tablename="api_cascade", schema=None, columns=None)
    columns = [
        ("id", Serial, {**_PARAMS, "null": False, "primary_key": True}),
        ("edr", BigInt, {**_PARAMS, "default": 0, "null": False, "unique": True}),
        ("partner", Integer, {**_PARAMS, "default": 0, "null": False}),
        ("channels", Varchar, {**_PARAMS, "default": "", "null": False, "length": 120}),
        ("ttl", Integer, {**_PARAMS, "default": 0, "null": False}),
        ("label", Varchar, {**_PARAMS, "default": "", "null": False, "length": 100}),
        ("accept_mo", Boolean, {**_PARAMS, "default": False, "null": False}),
        ("created_at", Timestamptz, {**_PARAMS, "default": TimestamptzNow(), "null": False}),
    ]
    for name, column_class, params in columns:
        manager.add_column(
            table_class_name="ApiCascade",
            tablename="api_cascade",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
