"""Piccolo app of the public API: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.public_api.tables import ApiCascade, ApiRequest

APP_CONFIG = AppConfig(
    app_name="public_api",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ApiRequest, ApiCascade],
    migration_dependencies=["core.dispatch.piccolo_app"],
    commands=[],
)
