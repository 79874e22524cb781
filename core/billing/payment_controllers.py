"""Top Up pages, the payments API and the providers' webhook route (BIL-9)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from core.accounts.guards import manager_guard, request_portal
from core.actor import Actor
from core.billing import payments
from core.billing.schemas import (
    PaymentAccountIn,
    PaymentAccountUpdate,
    PaymentAccountView,
    PaymentSystem,
    PaymentView,
    TopUpIn,
    TopUpStarted,
)
from core.billing.services import balance_of
from core.errors import InvalidInput, PortalError
from core.portal import Portal
from core.providers import WebhookRequest
from core.tenancy.resolver import absolute_url
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import page

# A webhook body is one small JSON event; anything larger is not from a payment system.
MAX_WEBHOOK_BYTES = 256 * 1024


def _return_base(request: Request) -> str:
    """The portal's configured address, where the payer comes back to (never the request's Host header)."""
    portal: Portal = request.app.state.portal
    return absolute_url(portal.settings, request_portal(request), "").rstrip("/")


class TopUpPages(Controller):
    path = "/top-up"
    include_in_schema = False

    async def _form(
        self,
        request: Request,
        actor: Actor,
        *,
        values: dict[str, Any] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "billing/top_up.html",
            {
                "systems": await payments.payment_systems(actor),
                "values": values or {},
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/")
    async def form(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._form(request, actor)

    @post("/")
    async def start(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            started = await payments.start_top_up(
                actor, await parse_form(request, TopUpIn), return_base=_return_base(request)
            )
        except PortalError as exc:
            values = {key: form.get(key) for key in form}
            status = exc.status_code if isinstance(exc, InvalidInput) else 502
            return await self._form(
                request, actor, values=values, error=exc.detail, field=exc.field, status_code=status
            )
        # Not a redirect: the page's CSP (form-action 'self') stops a form's redirect to another site, while a
        # page that moves on by itself (meta refresh, or the link on it) is an ordinary navigation.
        return await page(request, actor, "billing/top_up_redirect.html", {"checkout_url": started.checkout_url})

    @get("/{payment_id:int}")
    async def result(self, request: Request, actor: NamedDependency[Actor], payment_id: PathId) -> Response:
        return await page(
            request, actor, "billing/top_up_result.html", {"payment": await payments.get_payment(actor, payment_id)}
        )


@get("/balance", include_in_schema=False, media_type="text/plain")
async def live_balance(actor: NamedDependency[Actor]) -> str:
    """The header's balance, polled by the page so that a top up or a campaign's charge shows without reloading."""
    return await balance_of(actor)


class PaymentsApi(Controller):
    path = "/api/payments"
    tags = ["Finance"]

    @post("/", summary="Start a balance top up: returns the payment system's checkout page to send the payer to")
    async def start(self, request: Request, actor: NamedDependency[Actor], data: JSONBody[TopUpIn]) -> TopUpStarted:
        return await payments.start_top_up(actor, data, return_base=_return_base(request))

    @get("/systems", summary="The payment systems your company can top up with (offered by your provider)")
    async def systems(self, actor: NamedDependency[Actor]) -> list[PaymentSystem]:
        return await payments.payment_systems(actor)

    @get("/", summary="Your company's top ups through payment systems, newest first")
    async def list_payments(
        self, actor: NamedDependency[Actor], page: PageNo = 1, per_page: PerPage = DEFAULT_PER_PAGE
    ) -> Page[PaymentView]:
        return await payments.list_payments(actor, page=page, per_page=per_page)

    @get("/{payment_id:int}", summary="One top up and its status: pending, paid, canceled or failed")
    async def get_payment(self, actor: NamedDependency[Actor], payment_id: PathId) -> PaymentView:
        return await payments.get_payment(actor, payment_id)


class PaymentAccountsApi(Controller):
    """The payment systems an owner or reseller offers to the partners below it (BIL-9)."""

    path = "/api/admin/payment-accounts"
    guards = [manager_guard]
    tags = ["Admin"]

    @get("/", summary="Your payment accounts (keys never shown)")
    async def list_accounts(self, actor: NamedDependency[Actor]) -> list[PaymentAccountView]:
        return await payments.list_payment_accounts(actor)

    @post("/", summary="Add a payment account (provider stripe: secret_key, webhook_secret, currency)")
    async def create_account(
        self, actor: NamedDependency[Actor], data: JSONBody[PaymentAccountIn]
    ) -> PaymentAccountView:
        return await payments.save_payment_account(actor, data)

    @patch("/{account_id:int}", summary="Offer an account for new top ups, or stop offering it")
    async def update_account(
        self, actor: NamedDependency[Actor], account_id: PathId, data: JSONBody[PaymentAccountUpdate]
    ) -> PaymentAccountView:
        return await payments.set_payment_account_enabled(actor, account_id, data)


class PaymentWebhooks(Controller):
    """Called by payment systems, not by users: no session, no CSRF; the provider's signature is the check."""

    path = "/payments"
    include_in_schema = False

    @post("/{provider:str}/webhook", status_code=200, request_max_body_size=MAX_WEBHOOK_BYTES)
    async def receive(self, request: Request, provider: FromPath[str]) -> Response[dict[str, str]]:
        portal: Portal = request.app.state.portal
        hook = WebhookRequest(
            headers={name.lower(): value for name, value in request.headers.items()},
            body=await request.body(),
        )
        try:
            result = await payments.receive_webhook(portal, provider, hook)
        except PortalError as exc:
            # Payment systems read the status only: 400 for a call that does not verify (Stripe's convention).
            status = 400 if isinstance(exc, InvalidInput) else exc.status_code
            return Response({"detail": exc.detail}, status_code=status)
        return Response({"result": result})
