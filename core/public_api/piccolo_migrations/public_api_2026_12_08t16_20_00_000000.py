from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-08T16:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "WhatsApp templates through /api/send_sms: the channel's content (template name, language, body)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="public_api", description=DESCRIPTION)
    manager.add_column(
        table_class_name="ApiRequest",
        tablename="api_request",
        column_name="content",
        db_column_name="content",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": "{}",
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
