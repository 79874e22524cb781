"""Top-ups through payment systems (BIL-9): payment accounts, checkouts and the exactly-once credit on webhooks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from core.actor import Actor
from core.billing.schemas import (
    PaymentAccountIn,
    PaymentAccountUpdate,
    PaymentAccountView,
    PaymentSystem,
    PaymentView,
    TopUpIn,
    TopUpStarted,
)
from core.billing.services import change_balance
from core.billing.tables import LedgerEntry, Payment, PaymentAccount
from core.db import must_exist, write_transaction
from core.errors import InvalidInput, NotFound, ProviderError, Unauthenticated
from core.events import PaymentSettled
from core.money import format_money, from_micros, to_micros
from core.plugins import registries
from core.portal import Portal
from core.providers import CheckoutRequest, PaymentProvider, PaymentUpdate, WebhookRequest
from core.providers import PaymentAccount as AccountInfo
from core.tenancy.scope import PATH_DIGITS, require_admin, require_manager
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

log = logging.getLogger(__name__)

WebhookOutcome = Literal["credited", "canceled", "unchanged", "unknown", "ignored"]


def _provider(name: str) -> PaymentProvider:
    provider = registries().payment_providers.get(name)
    if provider is None:
        raise NotFound("Payment system")
    return provider


def _account_info(row: dict[str, Any]) -> AccountInfo:
    return AccountInfo(id=row["id"], provider=row["provider"], name=row["name"], settings=row["settings"])


def _ancestors(partner_path: str) -> list[int]:
    """The partners above the one at ``partner_path``, nearest first."""
    ids = [int(segment) for segment in partner_path.strip("/").split("/") if len(segment) == PATH_DIGITS]
    return ids[-2::-1]


async def save_payment_account(actor: Actor, data: PaymentAccountIn) -> PaymentAccountView:
    """Add an account with a payment system for the partners below the actor's (owner and reseller admins)."""
    require_manager(actor)
    require_admin(actor, "set payment systems")
    provider = _provider(data.provider)
    try:
        msgspec.convert(data.settings, provider.settings_type, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"settings: {exc}", field="settings") from exc
    row = PaymentAccount(
        partner=actor.partner_id,
        provider=data.provider,
        name=data.name,
        settings=data.settings,
        enabled=data.enabled,
        created_at=datetime.now(UTC),
    )
    await row.save()
    return _account_view(must_exist(await PaymentAccount.select().where(PaymentAccount.id == row.id).first()))


def _account_view(row: dict[str, Any]) -> PaymentAccountView:
    return PaymentAccountView(
        id=row["id"], provider=row["provider"], name=row["name"], enabled=row["enabled"], created_at=row["created_at"]
    )


async def list_payment_accounts(actor: Actor) -> list[PaymentAccountView]:
    """The payment accounts the actor's partner offers to the partners below it."""
    require_manager(actor)
    rows = await PaymentAccount.select().where(PaymentAccount.partner == actor.partner_id).order_by(PaymentAccount.id)
    return [_account_view(r) for r in rows]


async def set_payment_account_enabled(actor: Actor, account_id: int, data: PaymentAccountUpdate) -> PaymentAccountView:
    """Offer an account for new top ups or stop offering it; another partner's account is a 404."""
    require_manager(actor)
    require_admin(actor, "set payment systems")
    mine = (PaymentAccount.id == account_id) & (PaymentAccount.partner == actor.partner_id)
    if not await PaymentAccount.exists().where(mine):
        raise NotFound("Payment account")
    await PaymentAccount.update({PaymentAccount.enabled: data.enabled}).where(mine)
    return _account_view(must_exist(await PaymentAccount.select().where(mine).first()))


async def payment_systems(actor: Actor) -> list[PaymentSystem]:
    """The enabled accounts of the nearest partner above the actor's that offers any (its parent's, usually)."""
    require_admin(actor, "top up the balance")
    known = registries().payment_providers
    for partner_id in _ancestors(actor.partner_path):
        rows = await (
            PaymentAccount.select(PaymentAccount.id, PaymentAccount.provider, PaymentAccount.name)
            .where((PaymentAccount.partner == partner_id) & (PaymentAccount.enabled.eq(True)))
            .order_by(PaymentAccount.id)
        )
        offered = [
            PaymentSystem(account_id=r["id"], provider=r["provider"], name=r["name"])
            for r in rows
            if r["provider"] in known
        ]
        if offered:
            return offered
    return []


async def start_top_up(actor: Actor, data: TopUpIn, *, return_base: str) -> TopUpStarted:
    """Record a pending payment and open its checkout with the provider; ``return_base`` is the portal's own
    configured address (never the request's Host), where the payer comes back to."""
    systems = {s.account_id: s for s in await payment_systems(actor)}
    if data.account_id not in systems:
        raise InvalidInput("Choose one of the payment systems offered", field="account_id")
    account = must_exist(
        await PaymentAccount.select().where(PaymentAccount.id == data.account_id).output(load_json=True).first()
    )
    provider = _provider(account["provider"])
    payment = Payment(
        partner=actor.partner_id,
        payment_account=account["id"],
        provider=account["provider"],
        amount=to_micros(data.amount),
        currency=actor.currency,
        initiator_id=actor.user_id,
        initiator_email=actor.email,
        created_at=datetime.now(UTC),
    )
    await payment.save()
    request = CheckoutRequest(
        payment_id=payment.id,
        partner_id=actor.partner_id,
        amount_micros=payment.amount,
        currency=actor.currency,
        description=f"Balance top up of {actor.partner_name}",
        success_url=f"{return_base}/top-up/{payment.id}",
        cancel_url=f"{return_base}/top-up/{payment.id}",
    )
    try:
        checkout = await provider.create_checkout(_account_info(account), request)
    except ProviderError:
        await Payment.update({Payment.status: "failed"}).where(Payment.id == payment.id)
        raise
    await Payment.update({Payment.vendor_payment_id: checkout.vendor_payment_id}).where(Payment.id == payment.id)
    return TopUpStarted(payment_id=payment.id, checkout_url=checkout.redirect_url)


def payment_view(row: dict[str, Any]) -> PaymentView:
    return PaymentView(
        id=row["id"],
        provider=row["provider"],
        amount=from_micros(row["amount"]),
        currency=row["currency"],
        status=row["status"],
        initiator_email=row["initiator_email"],
        created_at=row["created_at"],
        paid_at=row["paid_at"],
    )


async def list_payments(actor: Actor, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> Page[PaymentView]:
    """The acting partner's own top-ups, newest first."""
    require_admin(actor, "see finance")
    found = await paginate(
        Payment.select().order_by(Payment.id, ascending=False),
        Payment.partner == actor.partner_id,
        page=page,
        per_page=per_page,
    )
    return found.with_items([payment_view(r) for r in found.items])


async def get_payment(actor: Actor, payment_id: int) -> PaymentView:
    """One of the acting partner's top-ups; another partner's is a 404."""
    require_admin(actor, "see finance")
    row = await Payment.select().where((Payment.id == payment_id) & (Payment.partner == actor.partner_id)).first()
    if row is None:
        raise NotFound("Payment")
    return payment_view(row)


async def receive_webhook(portal: Portal, provider_name: str, request: WebhookRequest) -> WebhookOutcome:
    """Verify a provider's call against the accounts with that provider and apply it to its payment.

    Raises:
        NotFound: no such payment system.
        InvalidInput: no account's secret verifies the signature (or its timestamp is too old): nothing changes.
    """
    provider = _provider(provider_name)
    accounts = await PaymentAccount.select().where(PaymentAccount.provider == provider_name).output(load_json=True)
    # Every account whose secret verifies the call: two accounts may share one (the demo's stand-in, one Stripe
    # account entered by two resellers), and the payment belongs to one of them.
    verified: list[int] = []
    update: PaymentUpdate | None = None
    for account in accounts:
        try:
            update = provider.parse_webhook(_account_info(account), request)
        except Unauthenticated:
            continue
        verified.append(account["id"])
    if not verified:
        raise InvalidInput("The webhook's signature does not verify", field="signature")
    if update is None:
        return "ignored"
    return await _apply(portal, verified, update)


async def _apply(portal: Portal, account_ids: list[int], update: PaymentUpdate) -> WebhookOutcome:
    # Only payments opened with a verifying account: one account's secret must not move another's payments.
    mine = Payment.payment_account.is_in(account_ids)
    key = (
        Payment.id == update.payment_id if update.payment_id else Payment.vendor_payment_id == update.vendor_payment_id
    )
    row = await Payment.select().where(mine & key).first()
    if row is None:
        log.warning("event %s for an unknown payment %s: ignored", update.vendor_event_id, update.vendor_payment_id)
        return "unknown"
    if update.status == "succeeded":
        if (update.amount_micros, update.currency.upper()) != (row["amount"], row["currency"].upper()):
            log.error(
                "payment %s: provider reports %s %s, not what was asked",
                row["id"],
                update.amount_micros,
                update.currency,
            )
            return "unchanged"
        if await credit_payment(row["id"]):
            await portal.emit(
                PaymentSettled(
                    payment_id=row["id"],
                    partner_id=row["partner"],
                    provider=row["provider"],
                    amount_micros=row["amount"],
                    currency=row["currency"],
                )
            )
            return "credited"
        return "unchanged"
    if update.status in ("canceled", "failed"):
        status = "canceled" if update.status == "canceled" else "failed"
        done = (
            await Payment.update({Payment.status: status})
            .where((Payment.id == row["id"]) & (Payment.status == "pending"))
            .returning(Payment.id)
        )
        return "canceled" if done else "unchanged"
    log.warning("payment %s: %s events are not handled", row["id"], update.status)
    return "unchanged"


async def credit_payment(payment_id: int) -> bool:
    """Credit a pending payment exactly once: the ``pending → paid`` update only one caller can win, the ledger
    row and the balance move, all in one transaction. False when it was already paid or canceled."""
    async with write_transaction():
        won = (
            await Payment.update({Payment.status: "paid", Payment.paid_at: datetime.now(UTC)})
            .where((Payment.id == payment_id) & (Payment.status == "pending"))
            .returning(
                Payment.partner,
                Payment.amount,
                Payment.currency,
                Payment.provider,
                Payment.initiator_id,
                Payment.initiator_email,
            )
        )
        if not won:
            return False
        paid = won[0]
        entry_id = await change_balance(
            paid["partner"],
            paid["amount"],
            kind="top_up",
            description=f"Top up through {paid['provider']}, payment {payment_id}",
            initiator=None,
            details={"payment_id": payment_id, "provider": paid["provider"]},
        )
        # The payer started it; the credit itself comes from the provider's confirmation, not a signed-in call.
        await LedgerEntry.update(
            {LedgerEntry.initiator_id: paid["initiator_id"], LedgerEntry.initiator_email: paid["initiator_email"]}
        ).where(LedgerEntry.id == entry_id)
        await Payment.update({Payment.ledger_entry_id: entry_id}).where(Payment.id == payment_id)
    log.info("payment %s credited: %s", payment_id, format_money(paid["amount"], paid["currency"]))
    return True
