"""Settings of the payments plugin."""

from __future__ import annotations

import msgspec


class SandboxPaymentSettings(msgspec.Struct, kw_only=True):
    """The sandbox provider: a local stand-in that signs its webhooks with this secret."""

    webhook_secret: str = ""
    currency: str = "EUR"
