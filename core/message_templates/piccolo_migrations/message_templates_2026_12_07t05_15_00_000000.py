from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T05:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a WhatsApp template's header, footer and buttons (CHN-3)"

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
    manager = MigrationManager(migration_id=ID, app_name="message_templates", description=DESCRIPTION)
    for name, column_class, params in (
        ("header", Text, {"default": "", "null": False}),
        ("footer", Varchar, {"length": 60, "default": "", "null": False}),
        ("buttons", Text, {"default": "[]", "null": False}),
    ):
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
