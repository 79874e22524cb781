"""The fake plugin's piccolo app, depending on core's tenancy app as a real plugin would."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tests.fake_plugin.tables import FakeNote

APP_CONFIG = AppConfig(
    app_name="fake_plugin",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[FakeNote],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
