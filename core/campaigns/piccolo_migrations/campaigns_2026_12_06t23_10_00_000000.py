from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T23:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Campaign from file (CMP-6): a recipient's own text and the file's other columns as its variables"

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
    for name in ("text", "fields"):
        manager.add_column(
            table_class_name="CampaignNumber",
            tablename="campaign_number",
            column_name=name,
            db_column_name=name,
            column_class_name="Text",
            column_class=Text,
            params=_PARAMS,
            schema=None,
        )
    return manager
