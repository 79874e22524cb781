"""The EDR table's columns (STA-1): what each user may show, hide and order through the shared table settings."""

from __future__ import annotations

from core.actor import Actor
from core.contacts.schemas import ColumnSetting
from core.contacts.table_settings import register_table
from core.web.i18n import N_

EDRS = "edrs"
COLUMN_LABELS = {
    "company": N_("Company"),
    "created_at": N_("Created"),
    "destination": N_("Recipient"),
    "sender": N_("Sender"),
    "channel": N_("Channel"),
    "campaign": N_("Campaign"),
    "status": N_("Status"),
    "parts": N_("Parts"),
    "country": N_("Country / network"),
    "price": N_("Cost"),
    "transaction_id": N_("Transaction ID"),
    "text": N_("Text"),
    "mccmnc": "MCCMNC",
    "sent_at": N_("Sent"),
    "done_at": N_("Final status at"),
}
# The table as it opened before it had settings; the other columns are there to be switched on.
DEFAULT_VISIBLE = frozenset(list(COLUMN_LABELS)[:10])


async def _columns(actor: Actor) -> list[ColumnSetting]:
    # Only resellers and the owner read other companies' records, so only they have a column naming them.
    keys = [key for key in COLUMN_LABELS if key != "company" or actor.is_partner_manager]
    return [ColumnSetting(key=key, visible=key in DEFAULT_VISIBLE) for key in keys]


register_table(EDRS, _columns)
