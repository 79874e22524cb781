"""Settings of the WhatsApp plugin: the Cloud API account."""

from __future__ import annotations

import msgspec

from core import N_

# The settings form labels each field by its name (core.dispatch.controllers.settings_fields); listed for the
# catalogue, as are the descriptions, its hints.
FIELD_LABELS = (
    N_("Api url"),
    N_("Access token"),
    N_("Phone number id"),
    N_("Business account id"),
    N_("App secret"),
    N_("Verify token"),
)


class WhatsAppSettings(msgspec.Struct, kw_only=True):
    api_url: str = "http://127.0.0.1:8082"
    access_token: str = ""
    phone_number_id: str = ""
    business_account_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
