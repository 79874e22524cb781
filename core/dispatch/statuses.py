"""The EDR statuses as users read them, for every page that counts messages by status."""

from __future__ import annotations

from core.web.i18n import N_

EDR_STATUS_LABELS = {
    "PREPARED": N_("Prepared"),
    "BILLED": N_("Queued"),
    "SENT": N_("Sent"),
    "DELIVERED": N_("Delivered"),
    "SEEN": N_("Seen"),
    "UNDELIVERED": N_("Undelivered"),
    "FAILED": N_("Failed"),
}
