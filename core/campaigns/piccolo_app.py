"""Piccolo app of the campaigns domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.campaigns.tables import Campaign, CampaignNumber

APP_CONFIG = AppConfig(
    app_name="campaigns",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Campaign, CampaignNumber],
    migration_dependencies=["core.tenancy.piccolo_app", "core.senders.piccolo_app", "core.contacts.piccolo_app"],
    commands=[],
)
