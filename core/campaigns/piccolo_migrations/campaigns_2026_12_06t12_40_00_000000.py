from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T12:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Quiet hours and a throughput limit per campaign (CMP-8)"

_PARAMS = {
    "default": None,
    "null": True,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="campaigns", description=DESCRIPTION)
    for name in ("window_from", "window_until", "rate_limit"):
        manager.add_column(
            table_class_name="Campaign",
            tablename="campaign",
            column_name=name,
            db_column_name=name,
            column_class_name="Integer",
            column_class=Integer,
            params=_PARAMS,
            schema=None,
        )
    return manager
