"""The sandbox payment provider."""

from __future__ import annotations

from typing import ClassVar

from core import Checkout, CheckoutRequest, PaymentAccount, PaymentUpdate, ProviderError, RefundResult, WebhookRequest
from plugins.payments.schemas import SandboxPaymentSettings

_NOT_BUILT = "Sandbox payments are not part of this build yet"


class SandboxPayments:
    """A payment system for demos and tests; real providers register beside it."""

    name: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox"
    settings_type: ClassVar[type[SandboxPaymentSettings]] = SandboxPaymentSettings

    async def create_checkout(self, account: PaymentAccount, request: CheckoutRequest) -> Checkout:
        raise ProviderError(f"{_NOT_BUILT}; no payment was opened")

    def parse_webhook(self, account: PaymentAccount, request: WebhookRequest) -> PaymentUpdate | None:
        raise ProviderError(_NOT_BUILT)

    async def refund(self, account: PaymentAccount, vendor_payment_id: str, amount_micros: int) -> RefundResult:
        raise ProviderError(f"{_NOT_BUILT}; nothing was refunded")
