from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import JSON, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Partner(Table, tablename="partner", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


ID = "2026-12-05T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "requests that travel up the partner tree (TEN-5)"

_PARAMS = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}
_FK = {**_PARAMS, "references": Partner, "on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade}
_FK.update({"target_column": None, "null": True})

COLUMNS = [
    ("kind", Varchar, {"length": 30, "default": "", "null": False, "index": True}),
    ("partner", ForeignKey, _FK),
    ("partner_path", Varchar, {"length": 400, "default": "", "null": False, "index": True}),
    ("holder", ForeignKey, _FK),
    ("status", Varchar, {"length": 12, "default": "new", "null": False, "index": True}),
    ("subject", Varchar, {"length": 200, "default": "", "null": False}),
    ("reason", Varchar, {"length": 500, "default": "", "null": False}),
    ("payload", JSON, {"default": "{}", "null": False}),
    ("attachments", JSON, {"default": "[]", "null": False}),
    ("requester_user_id", Integer, {"default": None, "null": True}),
    ("requester_email", Varchar, {"length": 254, "default": "", "null": False}),
    ("requester_language", Varchar, {"length": 2, "default": "en", "null": False}),
    ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
    ("updated_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenancy", description=DESCRIPTION)
    manager.add_table(class_name="PartnerRequest", tablename="partner_request", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="PartnerRequest",
            tablename="partner_request",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )

    return manager
