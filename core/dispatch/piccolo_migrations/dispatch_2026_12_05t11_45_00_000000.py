from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T11:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the callback outbox (signed callbacks, written with the change they report), MO routes, MO partners"

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
    ("id", BigSerial, {"null": False, "primary_key": True}),
    ("partner", Integer, {"default": 0, "null": False}),
    ("api_key", Integer, {"default": None, "null": True, "index": True}),
    ("event", Varchar, {"default": "", "null": False, "length": 12}),
    ("transaction_id", Varchar, {"default": "", "null": False, "length": 36}),
    ("url", Varchar, {"default": "", "null": False, "length": 500}),
    ("body", Text, {"default": "", "null": False}),
    ("state", Varchar, {"default": "pending", "null": False, "length": 10, "index": True}),
    ("attempts", Integer, {"default": 0, "null": False}),
    ("next_attempt_at", Timestamptz, {"default": TimestamptzNow(), "null": False, "index": True}),
    ("last_attempt_at", Timestamptz, {"default": None, "null": True}),
    ("last_status", Integer, {"default": None, "null": True}),
    ("last_error", Varchar, {"default": "", "null": False, "length": 200}),
    ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
    ("delivered_at", Timestamptz, {"default": None, "null": True}),
)

MO_ROUTE_COLUMNS = (
    ("partner", Integer, {"default": 0, "null": False, "index": True}),
    ("sender", Varchar, {"default": "", "null": False, "length": 15}),
    ("slot", Varchar, {"default": "", "null": False, "length": 40, "unique": True}),
    ("url", Varchar, {"default": "", "null": False, "length": 500}),
    ("secret", Varchar, {"default": "", "null": False, "length": 64}),
    ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
    ("updated_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)
    manager.add_table(class_name="CallbackOutbox", tablename="callback_outbox", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="CallbackOutbox",
            tablename="callback_outbox",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )
    manager.add_table(class_name="MoRoute", tablename="mo_route", schema=None, columns=None)
    for name, column_class, params in MO_ROUTE_COLUMNS:
        manager.add_column(
            table_class_name="MoRoute",
            tablename="mo_route",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )

    manager.add_column(
        table_class_name="InboundRecord",
        tablename="inbound_message",
        column_name="partner",
        db_column_name="partner",
        column_class_name="Integer",
        column_class=Integer,
        params={**_PARAMS, "default": None, "null": True},
        schema=None,
    )
    return manager
