"""Settings of the payments plugin and the part of Stripe's events it reads."""

from __future__ import annotations

import msgspec


class StripeSettings(msgspec.Struct, kw_only=True):
    """One Stripe account: its secret API key, the signing secret of its webhook endpoint, the currency it takes,
    and, for the local stand-in only, another API address."""

    secret_key: str
    webhook_secret: str
    currency: str = "EUR"
    api_base: str = ""


class CheckoutSession(msgspec.Struct, kw_only=True):
    id: str
    amount_total: int | None = None
    currency: str | None = None
    payment_status: str = ""
    metadata: dict[str, str] = {}


class EventData(msgspec.Struct, kw_only=True):
    object: CheckoutSession


class StripeEvent(msgspec.Struct, kw_only=True):
    id: str
    type: str
    data: EventData
