from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T16:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "what answered an MO message: its auto-reply's transaction id or why none was sent"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)
    manager.add_column(
        table_class_name="InboundRecord",
        tablename="inbound_message",
        column_name="reply",
        db_column_name="reply",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "default": "",
            "null": False,
            "length": 200,
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
