from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Boolean, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accepted /api/send_sms requests"

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
    manager.add_table(class_name="ApiRequest", tablename="api_request", schema=None, columns=None)
    columns = [
        ("id", Serial, {**_PARAMS, "null": False, "primary_key": True}),
        ("partner", Integer, {**_PARAMS, "default": 0, "null": False, "index": True}),
        ("api_key", Integer, {**_PARAMS, "default": 0, "null": False}),
        ("label", Varchar, {**_PARAMS, "default": "", "null": False, "length": 100}),
        ("flash", Boolean, {**_PARAMS, "default": False, "null": False}),
        ("ledgers", JSON, {**_PARAMS, "default": "{}", "null": False}),
        ("messages", Integer, {**_PARAMS, "default": 0, "null": False}),
        ("state", Varchar, {**_PARAMS, "default": "accepted", "null": False, "length": 12}),
        ("job", Varchar, {**_PARAMS, "default": "", "null": False, "length": 80, "index": True}),
        ("created_at", Timestamptz, {**_PARAMS, "default": TimestamptzNow(), "null": False}),
    ]
    for name, column_class, params in columns:
        manager.add_column(
            table_class_name="ApiRequest",
            tablename="api_request",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
