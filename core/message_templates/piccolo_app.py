"""Piccolo app of the message templates domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.message_templates.tables import MessageTemplate, ReplyTemplate

APP_CONFIG = AppConfig(
    app_name="message_templates",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[MessageTemplate, ReplyTemplate],
    migration_dependencies=["core.tenancy.piccolo_app", "core.senders.piccolo_app"],
    commands=[],
)
