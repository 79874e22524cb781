"""Piccolo app of the statistics domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.statistics.tables import EdrRollup, EdrRollupDelta, EdrRollupStatus, ExportTask

APP_CONFIG = AppConfig(
    app_name="statistics",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ExportTask, EdrRollup, EdrRollupStatus, EdrRollupDelta],
    migration_dependencies=["core.dispatch.piccolo_app"],  # the rollups' triggers are on edr
    commands=[],
)
