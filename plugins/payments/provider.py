"""Stripe as a payment system: Checkout Sessions opened through the official SDK, webhooks verified by its
signature check over the raw body."""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec
import stripe

from core import (
    Checkout,
    CheckoutRequest,
    InvalidInput,
    PaymentAccount,
    PaymentUpdate,
    ProviderError,
    RefundResult,
    Unauthenticated,
    WebhookRequest,
)
from plugins.payments.schemas import CheckoutSession, StripeEvent, StripeSettings

# Stripe's own default: a signed event older than this is refused, so a captured call cannot be replayed later.
TOLERANCE_SECONDS = 300
MICROS = 1_000_000
# Currencies Stripe counts in whole units; every other currency the portal uses has cents.
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF"})
Status = Literal["succeeded", "canceled", "failed"]
SUCCEEDED = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})


def _minor_unit(currency: str) -> int:
    return MICROS if currency.upper() in ZERO_DECIMAL else MICROS // 100


class StripePayments:
    """Stripe Checkout: the payer pays on Stripe's page and Stripe confirms by a signed webhook."""

    name: ClassVar[str] = "stripe"
    label: ClassVar[str] = "Stripe"
    settings_type: ClassVar[type[StripeSettings]] = StripeSettings

    def _settings(self, account: PaymentAccount) -> StripeSettings:
        return msgspec.convert(account.settings, StripeSettings, strict=False)

    def _client(self, settings: StripeSettings) -> stripe.StripeClient:
        if settings.api_base:
            return stripe.StripeClient(
                settings.secret_key, base_addresses={"api": settings.api_base}, http_client=stripe.HTTPXClient()
            )
        return stripe.StripeClient(settings.secret_key, http_client=stripe.HTTPXClient())

    async def create_checkout(self, account: PaymentAccount, request: CheckoutRequest) -> Checkout:
        settings = self._settings(account)
        if request.currency.upper() != settings.currency.upper():
            raise InvalidInput(f"{account.name} takes payments in {settings.currency} only", field="account_id")
        unit = _minor_unit(request.currency)
        if request.amount_micros % unit:
            raise InvalidInput(
                f"{request.currency} amounts have no finer fraction than 1/{MICROS // unit}", field="amount"
            )
        params: dict[str, object] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_micros // unit,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": str(request.payment_id),
            "metadata": {"payment_id": str(request.payment_id), "partner_id": str(request.partner_id)},
        }
        try:
            session = await self._client(settings).v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]  # the SDK's TypedDict is stricter than this plain dict
                # One session per payment however often this is retried.
                {"idempotency_key": f"portal-payment-{request.payment_id}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the payment: {exc.user_message or exc}") from exc
        if not session.url:
            raise ProviderError("Stripe opened the payment without a checkout page")
        return Checkout(vendor_payment_id=session.id, redirect_url=session.url)

    def parse_webhook(self, account: PaymentAccount, request: WebhookRequest) -> PaymentUpdate | None:
        settings = self._settings(account)
        if not settings.webhook_secret:
            raise Unauthenticated("This account has no webhook secret")
        try:
            payload = request.body.decode()
            stripe.WebhookSignature.verify_header(
                payload, request.headers.get("stripe-signature", ""), settings.webhook_secret, TOLERANCE_SECONDS
            )
        except (UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
            raise Unauthenticated("Stripe signature does not verify") from exc
        try:
            event = msgspec.json.decode(request.body, type=StripeEvent)
        except msgspec.ValidationError:
            return None  # a signed event of another kind of object: no payment state in it
        status: Status
        if event.type in SUCCEEDED and event.data.object.payment_status in ("paid", "no_payment_required"):
            status = "succeeded"
        elif event.type == "checkout.session.expired":
            status = "canceled"
        elif event.type == "checkout.session.async_payment_failed":
            status = "failed"
        else:
            return None
        return self._update(event, event.data.object, status)

    def _update(self, event: StripeEvent, session: CheckoutSession, status: Status) -> PaymentUpdate:
        currency = (session.currency or "").upper()
        raw_id = session.metadata.get("payment_id", "")
        return PaymentUpdate(
            vendor_payment_id=session.id,
            status=status,
            amount_micros=(session.amount_total or 0) * _minor_unit(currency),
            currency=currency,
            payment_id=int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None,
            vendor_event_id=event.id,
        )

    async def refund(self, account: PaymentAccount, vendor_payment_id: str, amount_micros: int) -> RefundResult:
        raise ProviderError("Stripe refunds are made in the Stripe dashboard; nothing was refunded")
