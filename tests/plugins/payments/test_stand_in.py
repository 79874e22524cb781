"""The Stripe stand-in end to end over real HTTP: the SDK opens sessions on it, its page's Pay and Cancel send
the payer back, and its signed webhooks reach the portal (served by uvicorn) once, twice or late."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import msgspec
import pytest
import uvicorn

from core import CheckoutRequest, PaymentAccount, ProviderError
from core.billing.tables import Payment
from core.billing.tables import PaymentAccount as AccountRow
from core.money import to_micros
from core.tenancy.tables import Partner
from plugins.payments.provider import StripePayments
from plugins.payments.stand_in import StandInStripe
from tests.factories import World, api_token, make_world
from tests.waiting import eventually


@contextlib.asynccontextmanager
async def served(app: object) -> AsyncIterator[int]:
    """The session's app (its runtime already started) behind uvicorn on a free loopback port."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")  # type: ignore[arg-type]
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def stand_in(app) -> AsyncIterator[StandInStripe]:
    server = StandInStripe()
    await server.start("127.0.0.1", 0)
    async with served(app) as port:
        server.webhook_url = f"http://127.0.0.1:{port}/payments/stripe/webhook"
        yield server
    await server.stop()


async def balance_of(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


async def opened(client_for, stand_in: StandInStripe) -> tuple[World, str]:
    world = await make_world()
    await AccountRow(
        partner=world.a.reseller_id,
        provider="stripe",
        name="Cards",
        settings=stand_in.connection_settings(),
        created_at=datetime.now(UTC),
    ).save()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    account_id = (await client.get("/api/payments/systems", headers=headers)).json()[0]["account_id"]
    started = await client.post("/api/payments", headers=headers, json={"amount": "30", "account_id": account_id})
    assert started.status_code == 201, started.text
    return world, started.json()["checkout_url"]


async def test_pay_with_the_webhook_sent_twice_credits_once(client_for, stand_in):
    world, checkout = await opened(client_for, stand_in)
    async with httpx.AsyncClient() as browser:
        page = await browser.get(checkout + "?webhook=twice")
        assert page.status_code == 200 and "30.00 EUR" in page.text and 'value="twice"' in page.text
        paid = await browser.post(checkout + "/pay", data={"webhook": "twice"})
    assert paid.status_code == 303 and paid.headers["location"].startswith(f"https://{world.a.host}/top-up/")
    assert sorted(stand_in.webhook_statuses) == [200, 200]
    assert await balance_of(world.a.end_user_id) == to_micros(30)
    assert (await Payment.select(Payment.status).first())["status"] == "paid"


async def test_a_late_webhook_credits_after_the_payer_is_back_and_cancel_never_credits(client_for, stand_in):
    stand_in.delay = 60  # held until released below
    world, checkout = await opened(client_for, stand_in)
    async with httpx.AsyncClient() as browser:
        await browser.post(checkout + "/pay", data={"webhook": "late"})
    client = client_for(world.a.host)
    payment_id = (await Payment.select(Payment.id).first())["id"]
    headers = await api_token(client, world.a.end_user_admin)
    assert (await client.get(f"/api/payments/{payment_id}", headers=headers)).json()["status"] == "pending"
    assert await balance_of(world.a.end_user_id) == 0
    stand_in.release_late()
    await eventually(lambda: stand_in.webhook_statuses == [200])
    assert await balance_of(world.a.end_user_id) == to_micros(30)

    account_id = (await client.get("/api/payments/systems", headers=headers)).json()[0]["account_id"]
    other = (await client.post("/api/payments", headers=headers, json={"amount": "5", "account_id": account_id})).json()
    async with httpx.AsyncClient() as browser:
        canceled = await browser.post(other["checkout_url"] + "/cancel", data={})
    assert canceled.headers["location"] == f"https://{world.a.host}/top-up/{other['payment_id']}"
    assert (await client.get(f"/api/payments/{other['payment_id']}", headers=headers)).json()["status"] == "canceled"
    assert await balance_of(world.a.end_user_id) == to_micros(30)


async def test_the_sdk_reuses_the_session_of_a_retried_payment_and_a_refused_key_is_a_provider_error(stand_in):
    provider = StripePayments()
    account = PaymentAccount(id=1, provider="stripe", name="Cards", settings=stand_in.connection_settings())
    request = CheckoutRequest(
        payment_id=7,
        partner_id=3,
        amount_micros=to_micros("12.34"),
        currency="EUR",
        description="Top up",
        success_url="https://a.test/top-up/7",
        cancel_url="https://a.test/top-up/7",
    )
    first = await provider.create_checkout(account, request)
    again = await provider.create_checkout(account, request)
    assert first == again and len(stand_in.sessions) == 1
    assert stand_in.sessions[first.vendor_payment_id]["amount_total"] == 1234
    assert stand_in.sessions[first.vendor_payment_id]["metadata"] == {"payment_id": "7", "partner_id": "3"}
    bad_key = PaymentAccount(
        id=1, provider="stripe", name="Cards", settings={**stand_in.connection_settings(), "secret_key": "nope"}
    )
    with pytest.raises(ProviderError, match="Stripe refused"):
        await provider.create_checkout(bad_key, msgspec.structs.replace(request, payment_id=8))
