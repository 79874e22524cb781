from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "short links per recipient and their clicks (URL-2, URL-3)"

_PARAMS = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

TABLES = {
    ("ShortLinkRow", "short_link"): [
        ("code", Varchar, {"length": 16, "default": "", "null": False, "unique": True}),
        ("domain", Varchar, {"length": 253, "default": "", "null": False}),
        ("url", Text, {"default": "", "null": False}),
        ("partner", Integer, {"default": 0, "null": False, "index": True}),
        ("campaign", Integer, {"default": None, "null": True, "index": True}),
        ("destination", Varchar, {"length": 15, "default": "", "null": False}),
        ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
        ("inactive_at", Timestamptz, {"default": None, "null": True, "index": True}),
    ],
    ("LinkClick", "link_click"): [
        ("link", Integer, {"default": 0, "null": False, "index": True}),
        ("partner", Integer, {"default": 0, "null": False, "index": True}),
        ("campaign", Integer, {"default": None, "null": True, "index": True}),
        ("domain", Varchar, {"length": 253, "default": "", "null": False, "index": True}),
        ("clicked_at", Timestamptz, {"default": TimestamptzNow(), "null": False, "index": True}),
        ("os", Varchar, {"length": 60, "default": "", "null": False}),
        ("browser", Varchar, {"length": 60, "default": "", "null": False}),
        ("device", Varchar, {"length": 60, "default": "", "null": False}),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="shortener", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params={**_PARAMS, **params},
                schema=None,
            )
    return manager
