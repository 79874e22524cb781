from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The pack that pays for a level's charge of an EDR (BIL-4)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="dispatch", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="EdrCharge",
        tablename="edr_charge",
        column_name="pack",
        db_column_name="pack",
        column_class_name="Integer",
        column_class=Integer,
        params={
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
