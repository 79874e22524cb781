from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T16:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "MO expectations: an API message sent with acceptMO routes its answers to its key's callback URL"

_PARAMS = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}
COLUMNS = (
    ("slot", Varchar, {"default": "", "null": False, "length": 120, "unique": True}),
    ("api_key", Integer, {"default": 0, "null": False}),
    ("expires_at", Timestamptz, {"default": TimestamptzNow(), "null": False, "index": True}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)
    manager.add_table(class_name="MoExpectation", tablename="mo_expectation", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="MoExpectation",
            tablename="mo_expectation",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )
    return manager
