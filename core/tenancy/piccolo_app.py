"""Piccolo app of the tenancy domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.tenancy.tables import AuditEntry, Partner, PartnerRequest, PortalHost, PortalRecord, ShortDomain

APP_CONFIG = AppConfig(
    app_name="tenancy",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Partner, PortalRecord, PortalHost, AuditEntry, PartnerRequest, ShortDomain],
    migration_dependencies=[],
    commands=[],
)
