from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, BigSerial, Integer, SmallInt, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Chain charging: what each level above the sender is charged per message, and its campaign ledger rows"

_PARAMS = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}
TABLES = (
    (
        "EdrCharge",
        "edr_charge",
        (
            ("id", BigSerial, {"null": False, "primary_key": True}),
            ("edr", BigInt, {"default": 0, "null": False, "index": True}),
            ("partner", Integer, {"default": 0, "null": False}),
            ("ledger_entry", Integer, {"default": 0, "null": False}),
            ("price", BigInt, {"default": 0, "null": False}),
        ),
    ),
    (
        "CampaignLevel",
        "campaign_level",
        (
            ("slot", Varchar, {"default": "", "null": False, "length": 40, "unique": True}),
            ("campaign", Integer, {"default": 0, "null": False, "index": True}),
            ("partner", Integer, {"default": 0, "null": False}),
            ("depth", SmallInt, {"default": 0, "null": False}),
            ("ledger_entry", Integer, {"default": 0, "null": False}),
        ),
    ),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dispatch", description=DESCRIPTION)
    for class_name, tablename, columns in TABLES:
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
