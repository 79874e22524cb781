"""BIL-3, BIL-8: pack offers in the Admin Panel, the catalogue a partner sees, buying a pack, and the API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.billing import packs, purchase
from core.billing.pack_schemas import PackCreate, PackUpdate
from core.billing.schemas import BalanceAdjustment
from core.billing.services import adjust_balance
from core.billing.tables import HeldPack, LedgerEntry
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.money import to_micros
from core.tenancy import requests as request_chain
from core.tenancy.tables import AuditEntry, Partner
from tests.core.billing.test_rate_plans import actor_of
from tests.factories import api_token, make_world, post_form, sign_in
from tests.isolation import foreign_id_responses


def offer(**changes) -> PackCreate:
    values = {"name": "Spain 1000", "channel": "sms", "country_iso": "ES", "price": Decimal(45), "messages": 1000}
    return PackCreate(**{**values, **changes})


async def balance(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


async def fund(world, tenant, amount: int) -> None:
    reseller = await actor_of(tenant.reseller_admin)
    await adjust_balance(reseller, tenant.end_user_id, BalanceAdjustment(amount=Decimal(amount), reason="Top up"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"channel": "pigeon"}, "channel"),
        ({"country_iso": "QQ"}, "country_iso"),
        ({"networks": ["26201"]}, "networks"),
        ({"price": "-1"}, "price"),
        ({"price": "1.0000001"}, "price"),
        ({"messages": 0}, "messages"),
        ({"mode": "sometimes"}, "mode"),
        ({"validity_days": 0}, "validity_days"),
        ({"available_from": "2027-02-01T00:00:00Z", "available_until": "2027-01-01T00:00:00Z"}, "available_until"),
    ],
)
async def test_offer_errors_name_the_field(client_for, changes, field):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.reseller_admin)
    body = {"name": "Spain", "channel": "sms", "country_iso": "ES", "price": "45", "messages": 1000, **changes}
    answer = await client.post("/api/admin/packs", headers=headers, json=body)
    assert answer.status_code in (400, 422), answer.text
    assert field in answer.text, answer.text


async def test_reseller_creates_and_changes_an_offer_in_its_currency_audited():
    world = await make_world()
    reseller = await actor_of(world.a.reseller_admin)
    created = await packs.create_offer(reseller, offer(networks=["21401"], validity_days=30))
    assert (created.partner_id, created.currency, created.networks, created.cost_per_message) == (
        world.a.reseller_id,
        "EUR",
        ["21401"],
        Decimal("0.045"),
    )
    assert created.country_name == "Spain"
    changed = await packs.update_offer(reseller, created.id, PackUpdate(price=Decimal(50), enabled=False))
    assert (changed.price, changed.enabled, changed.networks) == (Decimal(50), False, ["21401"])
    with pytest.raises(InvalidInput) as caught:
        await packs.update_offer(reseller, created.id, PackUpdate(networks=["99999"]))
    assert caught.value.field == "networks"
    with pytest.raises(InvalidInput) as caught:
        await packs.update_offer(
            reseller, created.id, PackUpdate(available_from=datetime(2027, 2, 1, tzinfo=UTC), available_until=None)
        )
        await packs.update_offer(reseller, created.id, PackUpdate(available_until=datetime(2027, 1, 1, tzinfo=UTC)))
    assert caught.value.field == "available_until"
    actions = await AuditEntry.select(AuditEntry.action).where(AuditEntry.object_type == "pack")
    assert [a["action"] for a in actions] == ["pack.create", "pack.update", "pack.update"]
    listed = await packs.list_offers(reseller, query="spain", channel="sms", country="es")
    assert [p.id for p in listed.items] == [created.id]
    operator = await actor_of(world.a.reseller_operator)
    with pytest.raises(Forbidden):
        await packs.create_offer(operator, offer())
    client_admin = await actor_of(world.a.end_user_admin)
    with pytest.raises(NotFound):
        await packs.list_offers(client_admin)


async def test_a_client_sees_only_its_parent_s_current_offers():
    world = await make_world()
    reseller_a = await actor_of(world.a.reseller_admin)
    reseller_b = await actor_of(world.b.reseller_admin)
    mine = await packs.create_offer(reseller_a, offer(name="A cheap", price=Decimal(10)))
    dear = await packs.create_offer(reseller_a, offer(name="A dear", price=Decimal(90), mode="delivered"))
    await packs.create_offer(reseller_a, offer(name="A off", enabled=False))
    now = datetime.now(UTC)
    await packs.create_offer(reseller_a, offer(name="A later", available_from=now + timedelta(days=1)))
    await packs.create_offer(reseller_a, offer(name="A over", available_until=now - timedelta(seconds=1)))
    await packs.create_offer(reseller_b, offer(name="B pack"))
    await packs.create_offer(world.owner, offer(name="Owner to resellers"))
    client = await actor_of(world.a.end_user_admin)
    seen = await purchase.catalogue(client, sort="price")
    assert [p.name for p in seen.items] == ["A cheap", "A dear"]
    assert [p.name for p in (await purchase.catalogue(client, sort="-price")).items] == ["A dear", "A cheap"]
    assert [p.id for p in (await purchase.catalogue(client, mode="delivered")).items] == [dear.id]
    assert [p.id for p in (await purchase.catalogue(client, query="cheap")).items] == [mine.id]
    assert (await purchase.catalogue(client, country="DE")).total == 0
    # The reseller's own catalogue is the owner's offers to it.
    assert [p.name for p in (await purchase.catalogue(reseller_a)).items] == ["Owner to resellers"]
    assert await purchase.catalogue_countries(client) == {"ES": "Spain"}
    plans = await purchase.catalogue_plans(client)
    assert [(p.id, p.current, p.countries) for p in plans] == [(world.a.rate_plan_id, True, ["ES"])]
    assert [p.plan_id for p in await purchase.own_plans(client)] == [world.a.rate_plan_id]


async def test_buying_debits_once_writes_the_ledger_and_holds_the_pack():
    world = await make_world()
    reseller = await actor_of(world.a.reseller_admin)
    sold = await packs.create_offer(reseller, offer(price=Decimal("45.50"), validity_days=30))
    await fund(world, world.a, 100)
    client = await actor_of(world.a.end_user_admin)
    held = await purchase.buy_pack(client, sold.id)
    assert await balance(world.a.end_user_id) == to_micros(Decimal("54.50"))
    assert (held.messages, held.remaining, held.status, held.offer_id) == (1000, 1000, "active", sold.id)
    assert held.expires_at is not None
    assert timedelta(days=30) - (held.expires_at - held.purchased_at) == timedelta(0)
    entry = await LedgerEntry.select().where(LedgerEntry.id == held.ledger_entry_id).first()
    assert (entry["kind"], entry["amount"]) == ("pack", -to_micros(Decimal("45.50")))
    assert entry["partner"] == world.a.end_user_id
    assert "Spain 1000" in entry["description"] and entry["initiator_email"] == world.a.end_user_admin
    assert [h.id for h in (await purchase.list_held(client)).items] == [held.id]
    assert (await purchase.list_held(await actor_of(world.b.end_user_admin))).total == 0
    buy = await AuditEntry.select(AuditEntry.action).where(AuditEntry.object_type == "pack_purchase")
    assert [b["action"] for b in buy] == ["pack.buy"]
    operator = await actor_of(world.a.end_user_operator)
    with pytest.raises(Forbidden):
        await purchase.buy_pack(operator, sold.id)


async def test_buying_beyond_balance_and_credit_is_refused_and_changes_nothing():
    world = await make_world()
    reseller = await actor_of(world.a.reseller_admin)
    sold = await packs.create_offer(reseller, offer(price=Decimal(45)))
    await fund(world, world.a, 30)
    await Partner.update({Partner.credit_limit: to_micros(10)}).where(Partner.id == world.a.end_user_id)
    client = await actor_of(world.a.end_user_admin)
    with pytest.raises(Conflict, match="Insufficient balance"):
        await purchase.buy_pack(client, sold.id)
    assert await balance(world.a.end_user_id) == to_micros(30)
    assert await HeldPack.count() == 0
    assert await LedgerEntry.count().where(LedgerEntry.kind == "pack") == 0
    await Partner.update({Partner.credit_limit: to_micros(15)}).where(Partner.id == world.a.end_user_id)
    await purchase.buy_pack(client, sold.id)
    assert await balance(world.a.end_user_id) == -to_micros(15)


async def test_a_repeated_submit_with_the_same_token_buys_once():
    world = await make_world()
    reseller = await actor_of(world.a.reseller_admin)
    sold = await packs.create_offer(reseller, offer(price=Decimal(10)))
    await fund(world, world.a, 100)
    client = await actor_of(world.a.end_user_admin)
    first, second = await asyncio.gather(
        purchase.buy_pack(client, sold.id, token="tok-1"), purchase.buy_pack(client, sold.id, token="tok-1")
    )
    assert first.id == second.id
    third = await purchase.buy_pack(client, sold.id, token="tok-1")
    assert third.id == first.id
    assert await HeldPack.count() == 1 and await balance(world.a.end_user_id) == to_micros(90)
    await purchase.buy_pack(client, sold.id, token="tok-2")
    assert await HeldPack.count() == 2 and await balance(world.a.end_user_id) == to_micros(80)


async def test_concurrent_buys_beyond_the_balance_leave_one_purchase():
    world = await make_world()
    reseller = await actor_of(world.a.reseller_admin)
    sold = await packs.create_offer(reseller, offer(price=Decimal(60)))
    await fund(world, world.a, 100)
    client = await actor_of(world.a.end_user_admin)
    results = await asyncio.gather(
        purchase.buy_pack(client, sold.id, token="one"),
        purchase.buy_pack(client, sold.id, token="two"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "HeldPackView"]
    assert await balance(world.a.end_user_id) == to_micros(40)
    assert await HeldPack.count() == 1 and await LedgerEntry.count().where(LedgerEntry.kind == "pack") == 1


async def test_offers_no_longer_offered_or_of_others_are_not_sold():
    world = await make_world()
    reseller = await actor_of(world.a.reseller_admin)
    sold = await packs.create_offer(reseller, offer(price=Decimal(1)))
    other = await packs.create_offer(await actor_of(world.b.reseller_admin), offer(price=Decimal(1)))
    owners = await packs.create_offer(world.owner, offer(price=Decimal(1)))
    await fund(world, world.a, 10)
    client = await actor_of(world.a.end_user_admin)
    for foreign in (other.id, owners.id, 2_000_000_000):
        with pytest.raises(NotFound):
            await purchase.buy_pack(client, foreign)
    await packs.update_offer(reseller, sold.id, PackUpdate(enabled=False))
    with pytest.raises(Conflict, match="no longer offered"):
        await purchase.buy_pack(client, sold.id)
    assert await balance(world.a.end_user_id) == to_micros(10)


async def test_api_routes_buy_and_list_and_are_in_the_schema(client_for, app):
    world = await make_world()
    client = client_for(world.a.host)
    admin = await api_token(client, world.a.reseller_admin)
    created = await client.post(
        "/api/admin/packs",
        headers=admin,
        json={"name": "API pack", "channel": "sms", "country_iso": "ES", "price": "5", "messages": 50},
    )
    assert created.status_code == 201, created.text
    offer_id = created.json()["id"]
    assert (await client.get(f"/api/admin/packs/{offer_id}", headers=admin)).json()["cost_per_message"] == "0.1"
    patched = await client.patch(f"/api/admin/packs/{offer_id}", headers=admin, json={"validity_days": 7})
    assert patched.status_code == 200 and patched.json()["validity_days"] == 7
    assert (await client.get("/api/admin/packs", headers=admin)).json()["total"] == 1
    await fund(world, world.a, 20)
    user = await api_token(client, world.a.end_user_admin)
    catalogue = (await client.get("/api/packs/catalogue", headers=user)).json()
    assert [p["id"] for p in catalogue["items"]] == [offer_id]
    bought = await client.post(f"/api/packs/{offer_id}/buy", headers=user, json={"token": "abc"})
    assert bought.status_code == 201, bought.text
    again = await client.post(f"/api/packs/{offer_id}/buy", headers=user, json={"token": "abc"})
    assert again.json()["id"] == bought.json()["id"]
    held = (await client.get("/api/packs", headers=user)).json()
    assert [(h["remaining"], h["messages"], h["status"]) for h in held["items"]] == [(50, 50, "active")]
    schema = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/packs", "/api/packs/catalogue", "/api/packs/{offer_id}/buy", "/api/admin/packs"):
        assert path in schema, path
    assert "/api/admin/packs/{offer_id}" in schema


async def test_another_tenant_s_offer_is_a_404_on_every_route(client_for, app):
    world = await make_world()
    for tenant in (world.a, world.b):
        tenant.offer_id = (await packs.create_offer(await actor_of(tenant.reseller_admin), offer(price=Decimal(1)))).id
        await fund(world, tenant, 5)
        tenant.held_id = (await purchase.buy_pack(await actor_of(tenant.end_user_admin), tenant.offer_id)).id
    for email, other in ((world.a.end_user_admin, world.b), (world.a.reseller_admin, world.b)):
        client = client_for(world.a.host)
        await sign_in(client, email)
        await client.get("/purchase")
        headers = await api_token(client, email)
        offer_routes = SimpleNamespace(routes=[r for r in app.routes if "{offer_id" in r.path or "{held_id" in r.path])
        assert len(offer_routes.routes) == 7  # paths; GET and POST or PATCH share one
        assert await foreign_id_responses(offer_routes, client, other, headers) == {}


async def test_purchase_page_buys_with_a_token_and_shows_the_pack(client_for):
    world = await make_world()
    sold = await packs.create_offer(await actor_of(world.a.reseller_admin), offer(price=Decimal(10), validity_days=30))
    await fund(world, world.a, 50)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get("/purchase")
    assert page.status_code == 200 and "Spain 1000" in page.text and "0.01 EUR" in page.text
    confirm = await client.get(f"/purchase/packs/{sold.id}")
    assert confirm.status_code == 200 and "40.00 EUR" in confirm.text  # the balance after
    token = confirm.text.split('name="token" value="')[1].split('"')[0]
    first = await post_form(client, f"/purchase/packs/{sold.id}", {"token": token})
    second = await post_form(client, f"/purchase/packs/{sold.id}", {"token": token})
    assert first.status_code in (302, 303) and second.status_code in (302, 303)
    assert await HeldPack.count() == 1 and await balance(world.a.end_user_id) == to_micros(40)
    done = await client.get(first.headers["location"])
    assert "1,000 of 1,000" in done.text and "bought" in done.text
    empty = client_for(world.b.host)
    await sign_in(empty, world.b.end_user_admin)
    assert "Ask your provider" in (await empty.get("/purchase")).text


async def test_a_parent_removes_a_client_s_pack_refunding_the_unused_share(client_for):
    world = await make_world()
    reseller = await actor_of(world.a.reseller_admin)
    sold = await packs.create_offer(reseller, offer(price=Decimal(40), messages=1000))
    await fund(world, world.a, 100)
    client = await actor_of(world.a.end_user_admin)
    held = await purchase.buy_pack(client, sold.id)
    await HeldPack.update({HeldPack.remaining: 250}).where(HeldPack.id == held.id)  # 750 sent
    with pytest.raises(NotFound):  # a client cannot end its own packs: the Admin Panel is not its
        await purchase.remove_pack(client, held.id)
    with pytest.raises(NotFound):
        await purchase.remove_pack(await actor_of(world.b.reseller_admin), held.id)
    with pytest.raises(Forbidden):
        await purchase.remove_pack(await actor_of(world.a.reseller_operator), held.id)
    ended = await purchase.remove_pack(reseller, held.id)
    assert ended.status == "expired" and ended.remaining == 250
    assert await balance(world.a.end_user_id) == to_micros(70)  # 60 left after buying, plus a quarter of 40
    refund = await LedgerEntry.select().where(LedgerEntry.kind == "pack").order_by(LedgerEntry.id, ascending=False)
    assert (refund[0]["amount"], refund[0]["initiator_email"]) == (to_micros(10), world.a.reseller_admin)
    with pytest.raises(Conflict, match="already ended"):
        await purchase.remove_pack(reseller, held.id)
    assert await balance(world.a.end_user_id) == to_micros(70)
    # The reseller's own pack, bought from the owner, is the owner's to remove.
    owners = await packs.create_offer(world.owner, offer(price=Decimal(1)))
    own = await purchase.buy_pack(reseller, owners.id)
    with pytest.raises(Forbidden):
        await purchase.remove_pack(reseller, own.id)
    assert [p.id for p in await purchase.partner_packs(world.owner, world.a.reseller_id)] == [own.id]
    page_client = client_for(world.a.host)
    await sign_in(page_client, world.a.reseller_admin)
    page = (await page_client.get(f"/admin/partners/{world.a.end_user_id}")).text
    assert "Spain 1000" in page and "250 of 1,000" in page and "Expired" in page
    again = await purchase.buy_pack(client, sold.id)
    removed = await post_form(page_client, f"/admin/packs/held/{again.id}/remove")
    assert removed.status_code in (302, 303) and removed.headers["location"].endswith("?saved=packs")
    assert "the unused messages were refunded" in (await page_client.get(removed.headers["location"])).text
    assert await balance(world.a.end_user_id) == to_micros(70)  # 40 paid, 40 back


async def test_a_client_asks_its_provider_for_plans_and_packs(client_for):
    world = await make_world()
    client = client_for(world.b.host)
    await sign_in(client, world.b.end_user_admin)
    page = await client.get("/purchase")
    assert "Ask your provider" in page.text
    asked = await post_form(client, "/purchase/request", {"comment": "SMS to Germany, about 5,000 a month"})
    assert asked.status_code in (302, 303) and asked.headers["location"] == "/purchase?asked=1"
    assert "who will answer it" in (await client.get(asked.headers["location"])).text
    short = await post_form(client, "/purchase/request", {"comment": "  "})
    assert "ask_error" in short.headers["location"]
    headers = await api_token(client, world.b.end_user_admin)
    sent = await client.post("/api/packs/requests", headers=headers, json={"comment": "Viber in Spain"})
    assert sent.status_code == 201, sent.text
    inbox = await request_chain.list_inbox(await actor_of(world.b.reseller_admin), held_only=True)
    assert [(r.kind, r.subject) for r in inbox.items] == [
        ("pricing", "Viber in Spain"),
        ("pricing", "SMS to Germany, about 5,000 a month"),
    ]
    assert (await request_chain.list_inbox(await actor_of(world.a.reseller_admin), kind="pricing")).total == 0
    reseller = client_for(world.b.host)
    await sign_in(reseller, world.b.reseller_admin)
    detail = await reseller.get(f"/admin/requests/{inbox.items[0].id}")
    assert detail.status_code == 200 and "Viber in Spain" in detail.text
    operator = await api_token(client, world.b.end_user_operator)
    refused = await client.post("/api/packs/requests", headers=operator, json={"comment": "Viber in Spain"})
    assert refused.status_code == 403
