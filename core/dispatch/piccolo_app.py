"""Piccolo app of the dispatch domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.dispatch.tables import (
    CallbackOutbox,
    CampaignBatch,
    CampaignLevel,
    EarlyReport,
    Edr,
    EdrCharge,
    EdrPart,
    InboundRecord,
    MoExpectation,
    MoRoute,
    VendorConnection,
)

APP_CONFIG = AppConfig(
    app_name="dispatch",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        VendorConnection,
        Edr,
        EdrPart,
        CampaignBatch,
        EarlyReport,
        InboundRecord,
        CallbackOutbox,
        MoRoute,
        MoExpectation,
        EdrCharge,
        CampaignLevel,
    ],
    migration_dependencies=["core.campaigns.piccolo_app"],
    commands=[],
)
