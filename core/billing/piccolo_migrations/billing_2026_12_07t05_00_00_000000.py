from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Select plan (BIL-8): a rate plan the offering partner lets its clients pick for themselves"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)
    manager.add_column(
        table_class_name="RatePlan",
        tablename="rate_plan",
        column_name="selectable",
        db_column_name="selectable",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
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
