"""Settings of the WhatsApp plugin: the Cloud API account."""

from __future__ import annotations

import msgspec


class WhatsAppSettings(msgspec.Struct, kw_only=True):
    api_url: str = "http://127.0.0.1:8082"
    access_token: str = ""
    phone_number_id: str = ""
    business_account_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
