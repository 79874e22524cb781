from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Partner(Table, tablename="partner", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


ID = "2026-12-06T00:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "vendor templates: WhatsApp templates submitted for approval, with the vendor's verdict"

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
    (
        "partner",
        ForeignKey,
        {
            "references": Partner,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
            "index": True,
        },
    ),
    ("channel", Varchar, {"default": "", "null": False, "length": 40}),
    ("connection", Integer, {"default": 0, "null": False}),
    ("name", Varchar, {"default": "", "null": False, "length": 512}),
    ("language", Varchar, {"default": "", "null": False, "length": 15}),
    ("category", Varchar, {"default": "", "null": False, "length": 20}),
    ("body", Text, {"default": "", "null": False}),
    ("status", Varchar, {"default": "pending", "null": False, "length": 12}),
    ("reason", Varchar, {"default": "", "null": False, "length": 200}),
    ("vendor_template_id", Varchar, {"default": "", "null": False, "length": 64}),
    ("created_by", Integer, {"default": None, "null": True}),
    ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
    ("updated_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="message_templates", description=DESCRIPTION)
    manager.add_table(class_name="VendorTemplate", tablename="vendor_template", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="VendorTemplate",
            tablename="vendor_template",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )

    return manager
