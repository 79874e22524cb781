"""Piccolo app of the shortener plugin: its links and clicks."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.shortener.tables import LinkClick, ShortLinkRow

APP_CONFIG = AppConfig(
    app_name="shortener",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ShortLinkRow, LinkClick],
    migration_dependencies=[],
    commands=[],
)
