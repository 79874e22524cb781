"""Piccolo app of the numbering domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.numbering.tables import BookStamp, Country, Network, Prefix

APP_CONFIG = AppConfig(
    app_name="numbering",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Country, Network, Prefix, BookStamp],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
