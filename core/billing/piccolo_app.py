"""Piccolo app of the billing domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.billing.tables import (
    HeldPack,
    LedgerEntry,
    Pack,
    Payment,
    PaymentAccount,
    PlanAssignment,
    Rate,
    RatePlan,
)

APP_CONFIG = AppConfig(
    app_name="billing",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[LedgerEntry, RatePlan, Rate, PlanAssignment, PaymentAccount, Payment, Pack, HeldPack],
    migration_dependencies=["core.tenancy.piccolo_app", "core.accounts.piccolo_app"],
    commands=[],
)
