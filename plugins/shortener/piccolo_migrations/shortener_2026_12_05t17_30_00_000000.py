from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "each click keeps the id of the stream entry it came from"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="shortener", description=DESCRIPTION)
    manager.add_column(
        table_class_name="LinkClick",
        tablename="link_click",
        column_name="entry",
        db_column_name="entry",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 40,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
