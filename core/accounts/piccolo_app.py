"""Piccolo app of the accounts domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.accounts.tables import AccountToken, ApiKey, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[User, AccountToken, ApiKey],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
