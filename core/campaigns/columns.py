"""The campaigns list's columns (CMP-2): what each user may show, hide and order through the table settings."""

from __future__ import annotations

from core.actor import Actor
from core.contacts.schemas import ColumnSetting
from core.contacts.table_settings import register_table
from core.web.i18n import N_

CAMPAIGNS = "campaigns"
COLUMN_LABELS = {
    "name": N_("Name"),
    "channel": N_("Channel"),
    "sender": N_("Sender"),
    "status": N_("Status"),
    "progress": N_("Progress"),
    "recipients": N_("Recipients"),
    "cost": N_("Cost"),
    "short_link": N_("Short link"),
    "created": N_("Created / started"),
    "actions": N_("Actions"),
}


async def _columns(_actor: Actor) -> list[ColumnSetting]:
    return [ColumnSetting(key=key, visible=True) for key in COLUMN_LABELS]


register_table(CAMPAIGNS, _columns)
