from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-26T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fake note"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="fake_plugin", description=DESCRIPTION)
    manager.add_table(class_name="FakeNote", tablename="fake_note", schema=None, columns=None)
    manager.add_column(
        table_class_name="FakeNote",
        tablename="fake_note",
        column_name="text",
        db_column_name="text",
        column_class_name="Varchar",
        column_class=Varchar,
        params={"length": 100, "default": "", "null": False, "primary_key": False, "unique": False,
                "index": False, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    return manager
