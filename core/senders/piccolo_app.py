"""Piccolo app of the senders domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.senders.tables import Sender

APP_CONFIG = AppConfig(
    app_name="senders",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Sender],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
