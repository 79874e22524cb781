"""Top up through a payment system (BIL-9): Stripe against its local stand-in, credited exactly once per payment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from core.billing.tables import LedgerEntry, Payment, PaymentAccount
from core.money import to_micros
from core.tenancy.tables import Partner
from plugins.payments.stand_in import StandInStripe, sign
from tests.factories import World, api_token, make_world, post_form, sign_in
from tests.isolation import foreign_id_responses

WEBHOOK = "/payments/stripe/webhook"


@pytest.fixture
async def stand_in() -> AsyncIterator[StandInStripe]:
    server = StandInStripe()
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


async def add_account(partner_id: int, settings: dict[str, Any], name: str = "Card payments") -> int:
    row = PaymentAccount(
        partner=partner_id, provider="stripe", name=name, settings=settings, created_at=datetime.now(UTC)
    )
    await row.save()
    return row.id


async def balance_of(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


async def start(client: httpx.AsyncClient, headers: dict[str, str], amount: str = "25.50") -> dict[str, Any]:
    systems = (await client.get("/api/payments/systems", headers=headers)).json()
    response = await client.post(
        "/api/payments", headers=headers, json={"amount": amount, "account_id": systems[0]["account_id"]}
    )
    assert response.status_code == 201, response.text
    return response.json()


def session_of(stand_in: StandInStripe, started: dict[str, Any]) -> dict[str, Any]:
    session_id = started["checkout_url"].rsplit("/", 1)[1]
    return stand_in.sessions[session_id]


def signed(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "Stripe-Signature": sign(body, secret, timestamp)}


def completed(stand_in: StandInStripe, session: dict[str, Any]) -> bytes:
    return stand_in.event_body(
        "checkout.session.completed", {**session, "status": "complete", "payment_status": "paid"}
    )


async def setup(client_for: Any, stand_in: StandInStripe) -> tuple[World, httpx.AsyncClient, dict[str, str]]:
    world = await make_world()
    await add_account(world.a.reseller_id, stand_in.connection_settings())
    client = client_for(world.a.host)
    return world, client, await api_token(client, world.a.end_user_admin)


async def test_duplicate_and_concurrent_webhooks_credit_once_and_the_row_is_in_finance_history(client_for, stand_in):
    world, client, headers = await setup(client_for, stand_in)
    started = await start(client, headers)
    assert started["checkout_url"].startswith(stand_in.connection_settings()["api_base"] + "/checkout/cs_test_")
    session = session_of(stand_in, started)
    assert session["amount_total"] == 2550 and session["currency"] == "eur"
    assert session["success_url"] == f"https://{world.a.host}/top-up/{started['payment_id']}"
    body = completed(stand_in, session)
    answers = await asyncio.gather(
        *(client.post(WEBHOOK, content=body, headers=signed(body, stand_in.webhook_secret)) for _ in range(6))
    )
    assert sorted(a.json()["result"] for a in answers) == ["credited"] + ["unchanged"] * 5
    assert await balance_of(world.a.end_user_id) == to_micros("25.50")
    # The same event replayed later, and a fresh event about the paid session, change nothing.
    again = await client.post(WEBHOOK, content=body, headers=signed(body, stand_in.webhook_secret))
    fresh = completed(stand_in, session)
    later = await client.post(WEBHOOK, content=fresh, headers=signed(fresh, stand_in.webhook_secret))
    assert again.json()["result"] == later.json()["result"] == "unchanged"
    assert await balance_of(world.a.end_user_id) == to_micros("25.50")
    history = (await client.get("/api/finance?kind=top_up", headers=headers)).json()
    assert [(e["amount"], e["balance_after"], e["initiator_email"]) for e in history["items"]] == [
        ("25.5", "25.5", world.a.end_user_admin)
    ]
    payments = (await client.get("/api/payments", headers=headers)).json()
    assert [(p["id"], p["status"], p["amount"]) for p in payments["items"]] == [(started["payment_id"], "paid", "25.5")]


async def test_bad_signature_old_timestamp_or_another_account_s_secret_are_refused(client_for, stand_in):
    world, client, headers = await setup(client_for, stand_in)
    # Tenant B's provider has its own Stripe account; its secret must not move tenant A's payments.
    await add_account(world.b.reseller_id, {**stand_in.connection_settings(), "webhook_secret": "whsec_other"})
    started = await start(client, headers)
    body = completed(stand_in, session_of(stand_in, started))
    tampered = body.replace(b'"amount_total":2550', b'"amount_total":9999')
    cases = [
        (tampered, signed(body, stand_in.webhook_secret)),
        (body, signed(body, stand_in.webhook_secret, timestamp=int(time.time()) - 301)),
        (body, signed(body, "whsec_wrong")),
        (body, {"Content-Type": "application/json"}),
    ]
    for content, sig in cases:
        refused = await client.post(WEBHOOK, content=content, headers=sig)
        assert refused.status_code == 400, refused.text
    other = await client.post(WEBHOOK, content=body, headers=signed(body, "whsec_other"))
    assert other.json()["result"] == "unknown"
    assert await balance_of(world.a.end_user_id) == 0
    assert (await Payment.select(Payment.status).first())["status"] == "pending"


async def test_a_canceled_payment_never_credits_even_when_a_completion_arrives_after(client_for, stand_in):
    world, client, headers = await setup(client_for, stand_in)
    started = await start(client, headers)
    session = session_of(stand_in, started)
    expired = stand_in.event_body("checkout.session.expired", {**session, "status": "expired"})
    answer = await client.post(WEBHOOK, content=expired, headers=signed(expired, stand_in.webhook_secret))
    assert answer.json()["result"] == "canceled"
    body = completed(stand_in, session)
    late = await client.post(WEBHOOK, content=body, headers=signed(body, stand_in.webhook_secret))
    assert late.status_code == 200 and late.json()["result"] == "unchanged"
    assert (
        await balance_of(world.a.end_user_id) == 0
        and await LedgerEntry.count().where(LedgerEntry.kind == "top_up") == 0
    )
    assert (await client.get(f"/api/payments/{started['payment_id']}", headers=headers)).json()["status"] == "canceled"
    # An event about a payment the portal never opened is acknowledged (Stripe would retry) and ignored.
    unknown = completed(stand_in, {**session, "id": "cs_test_elsewhere", "metadata": {"payment_id": "999999"}})
    answer = await client.post(WEBHOOK, content=unknown, headers=signed(unknown, stand_in.webhook_secret))
    assert answer.status_code == 200 and answer.json()["result"] == "unknown"


async def test_amount_and_payment_system_are_checked_and_nothing_is_written(client_for, stand_in):
    world, client, headers = await setup(client_for, stand_in)
    foreign = await add_account(world.b.reseller_id, stand_in.connection_settings())
    mine = (await client.get("/api/payments/systems", headers=headers)).json()[0]["account_id"]
    for body, field, status in [
        ({"amount": "0", "account_id": mine}, "amount", 400),
        ({"amount": "-5", "account_id": mine}, "amount", 400),
        ({"amount": "10.005", "account_id": mine}, "amount", 400),
        ({"amount": "1000000.01", "account_id": mine}, "amount", 400),
        ({"amount": "ten", "account_id": mine}, "amount", 400),
        ({"amount": "10", "account_id": foreign}, "account_id", 422),
        ({"amount": "10", "account_id": 2_000_000_000}, "account_id", 422),
    ]:
        response = await client.post("/api/payments", headers=headers, json=body)
        assert response.status_code == status and response.json()["field"] == field, (body, response.text)
    operator = await api_token(client, world.a.end_user_operator)
    refused = await client.post("/api/payments", headers=operator, json={"amount": "10", "account_id": mine})
    assert refused.status_code == 403
    assert await Payment.count() == 0 and stand_in.sessions == {}


async def test_another_company_s_payments_are_missing(app, client_for, stand_in):
    world, client, headers = await setup(client_for, stand_in)
    await add_account(world.b.reseller_id, stand_in.connection_settings())
    client_b = client_for(world.b.host)
    world.b.payment_id = (await start(client_b, await api_token(client_b, world.b.end_user_admin)))["payment_id"]
    world.a.payment_id = (await start(client, headers))["payment_id"]
    assert (await client.get("/api/payments", headers=headers)).json()["total"] == 1
    # Both resellers entered the same Stripe account: its events still reach tenant B's payment, and only it.
    body = completed(
        stand_in, next(s for s in stand_in.sessions.values() if s["metadata"]["payment_id"] == str(world.b.payment_id))
    )
    answer = await client.post(WEBHOOK, content=body, headers=signed(body, stand_in.webhook_secret))
    assert answer.json()["result"] == "credited"
    assert await balance_of(world.b.end_user_id) == to_micros("25.50") and await balance_of(world.a.end_user_id) == 0
    await sign_in(client, world.a.end_user_admin)
    assert await foreign_id_responses(app, client, world.b, headers, only={"payment_id"}) == {}


async def test_the_top_up_page_sends_the_payer_to_the_checkout_and_shows_the_result(client_for, stand_in):
    world, client, _ = await setup(client_for, stand_in)
    await sign_in(client, world.a.end_user_admin)
    home = await client.get("/")
    assert 'data-testid="top-up"' in home.text
    form = await client.get("/top-up/")
    assert "Card payments" in form.text
    account_id = (await PaymentAccount.select(PaymentAccount.id).first())["id"]
    bad = await post_form(client, "/top-up/", {"amount": "0", "account_id": account_id})
    assert bad.status_code == 422 and "must be more than 0" in bad.text
    sent = await post_form(client, "/top-up/", {"amount": "40", "account_id": account_id})
    checkout = sent.text.split('data-testid="checkout-link"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert sent.status_code == 200 and checkout.startswith(stand_in.connection_settings()["api_base"] + "/checkout/")
    payment_id = (await Payment.select(Payment.id).first())["id"]
    waiting = await client.get(f"/top-up/{payment_id}")
    assert "Waiting for the payment system" in waiting.text
    body = completed(stand_in, session_of(stand_in, {"checkout_url": checkout}))
    await client.post(WEBHOOK, content=body, headers=signed(body, stand_in.webhook_secret))
    done = await client.get(f"/top-up/{payment_id}")
    assert "Payment of 40.00 EUR received. Your balance is now 40.00 EUR." in done.text


async def test_resellers_manage_their_payment_accounts_and_a_disabled_one_is_not_offered(app, client_for, stand_in):
    world = await make_world()
    reseller = client_for(world.a.host)
    headers = await api_token(reseller, world.a.reseller_admin)
    url = "/api/admin/payment-accounts"
    bad = await reseller.post(url, headers=headers, json={"provider": "stripe", "name": "Cards", "settings": {}})
    assert bad.status_code == 422 and bad.json()["field"] == "settings"
    unknown = await reseller.post(url, headers=headers, json={"provider": "paypal", "name": "PP", "settings": {}})
    assert unknown.status_code == 404
    created = await reseller.post(
        url, headers=headers, json={"provider": "stripe", "name": "Cards", "settings": stand_in.connection_settings()}
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert "settings" not in account and account["enabled"] is True
    assert [a["id"] for a in (await reseller.get(url, headers=headers)).json()] == [account["id"]]
    company = await api_token(reseller, world.a.end_user_admin)
    assert [s["name"] for s in (await reseller.get("/api/payments/systems", headers=company)).json()] == ["Cards"]
    off = await reseller.patch(f"{url}/{account['id']}", headers=headers, json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert (await reseller.get("/api/payments/systems", headers=company)).json() == []
    assert (await reseller.get(url, headers=company)).status_code == 404  # end users have no Admin Panel
    operator = await api_token(reseller, world.a.reseller_operator)
    assert (await reseller.patch(f"{url}/{account['id']}", headers=operator, json={"enabled": True})).status_code == 403
    # Tenant B's reseller reaches none of tenant A's accounts.
    other = client_for(world.b.host)
    world.a.account_id = account["id"]
    other_headers = await api_token(other, world.b.reseller_admin)
    assert await foreign_id_responses(app, other, world.a, other_headers, only={"account_id"}) == {}
