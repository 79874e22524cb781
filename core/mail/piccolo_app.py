"""Piccolo app of the mail domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.mail.tables import MailMessage

APP_CONFIG = AppConfig(
    app_name="mail",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[MailMessage],
    migration_dependencies=[],
    commands=[],
)
