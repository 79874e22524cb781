"""Piccolo app of the contacts domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.contacts.tables import (
    Contact,
    ContactBlock,
    ContactField,
    ContactGroup,
    ContactGroupMember,
    ContactImport,
    TableSetting,
)

APP_CONFIG = AppConfig(
    app_name="contacts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Contact, ContactGroup, ContactGroupMember, ContactBlock, ContactField, TableSetting, ContactImport],
    migration_dependencies=["core.tenancy.piccolo_app", "core.accounts.piccolo_app", "core.senders.piccolo_app"],
    commands=[],
)
