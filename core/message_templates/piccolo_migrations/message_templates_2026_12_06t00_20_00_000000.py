from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T00:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a campaign template's premoderation: its status, the reason and its request (TPL-2)"

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
        ("status", Varchar, {"length": 12, "default": "approved", "null": False}),
        ("status_reason", Varchar, {"length": 300, "default": "", "null": False}),
        ("request_id", Integer, {"default": None, "null": True}),
    ):
        manager.add_column(
            table_class_name="MessageTemplate",
            tablename="message_template",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_PARAMS, **params},
            schema=None,
        )
    return manager
