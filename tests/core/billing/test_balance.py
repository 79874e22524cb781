"""Manual balance adjustments (ADM-1, BIL-6, BIL-7): exact, audited, never below the credit limit."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from core.billing.schemas import BalanceAdjustment
from core.billing.services import adjust_balance
from core.billing.tables import LedgerEntry
from core.errors import Conflict
from core.money import format_money, from_micros, to_micros
from core.tenancy.tables import AuditEntry, Partner
from tests.factories import api_token, make_world, post_form, sign_in


async def balance_of(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


def test_money_conversions_are_exact():
    assert to_micros(Decimal("0.1")) + to_micros(Decimal("0.2")) == to_micros(Decimal("0.3"))
    assert to_micros("12.345678") == 12_345_678 and from_micros(12_345_678) == Decimal("12.345678")
    assert format_money(1_234_500_000, "EUR") == "1,234.50 EUR"
    assert format_money(4_500, "EUR") == "0.0045 EUR"
    assert format_money(-2_000_000, "USD") == "-2.00 USD"


async def test_adjustment_writes_a_ledger_row_with_initiator_and_reason(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.reseller_admin)
    url = f"/api/admin/partners/{world.a.end_user_id}"
    response = await client.post(
        f"{url}/balance-adjustments", headers=headers, json={"amount": "150.25", "reason": "Bank transfer 42"}
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["amount"] == "150.25" and entry["balance_after"] == "150.25" and entry["kind"] == "manual"
    assert entry["initiator_email"] == world.a.reseller_admin and entry["description"] == "Bank transfer 42"
    await client.post(f"{url}/balance-adjustments", headers=headers, json={"amount": -50, "reason": "Correction"})
    assert await balance_of(world.a.end_user_id) == to_micros("100.25")
    ledger = (await client.get(f"{url}/ledger", headers=headers)).json()
    assert [e["amount"] for e in ledger["items"]] == ["-50", "150.25"]
    audit = (
        await AuditEntry.select()
        .where((AuditEntry.action == "balance.adjust") & (AuditEntry.object_id == world.a.end_user_id))
        .order_by(AuditEntry.id)
    )
    assert len(audit) == 2 and audit[0]["summary"] == "Added 150.25 EUR to Company A: Bank transfer 42"


async def test_a_debit_below_the_credit_limit_is_refused_and_nothing_is_written(client_for):
    world = await make_world()
    client = client_for(world.owner_host)
    headers = await api_token(client, "owner@main.test")
    url = f"/api/admin/partners/{world.a.end_user_id}"
    await client.patch(url, headers=headers, json={"credit_limit": "20"})
    ok = await client.post(f"{url}/balance-adjustments", headers=headers, json={"amount": -20, "reason": "To limit"})
    assert ok.status_code == 201 and ok.json()["balance_after"] == "-20"
    rows = await LedgerEntry.count()
    refused = await client.post(
        f"{url}/balance-adjustments", headers=headers, json={"amount": "-0.01", "reason": "One cent too far"}
    )
    assert refused.status_code == 409 and "credit limit" in refused.json()["detail"]
    assert await LedgerEntry.count() == rows and await balance_of(world.a.end_user_id) == to_micros(-20)
    for body, field in [
        ({"amount": 0, "reason": "zero"}, "amount"),
        ({"amount": "1e12", "reason": "huge"}, "amount"),
        ({"amount": "0.0000001", "reason": "tiny"}, "amount"),
        ({"amount": 5, "reason": ""}, "reason"),
    ]:
        response = await client.post(f"{url}/balance-adjustments", headers=headers, json=body)
        assert response.status_code == 400 and response.json()["field"] == field, response.text
    assert await LedgerEntry.count() == rows


async def test_concurrent_debits_never_overdraw_and_the_ledger_sums_exactly(client_for):
    world = await make_world()
    await adjust_balance(world.owner, world.a.end_user_id, BalanceAdjustment(amount=Decimal(100), reason="Top up"))

    async def debit() -> bool:
        try:
            await adjust_balance(
                world.owner, world.a.end_user_id, BalanceAdjustment(amount=Decimal(-3), reason="Concurrent debit")
            )
        except Conflict:
            return False
        return True

    results = await asyncio.gather(*(debit() for _ in range(50)))
    assert sum(results) == 33
    balance = await balance_of(world.a.end_user_id)
    assert balance == to_micros(1)
    ledger = await LedgerEntry.select(LedgerEntry.amount).where(LedgerEntry.partner == world.a.end_user_id)
    assert sum(r["amount"] for r in ledger) == balance


async def test_balance_form_in_the_admin_panel(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    url = f"/admin/partners/{world.a.end_user_id}"
    done = await post_form(client, f"{url}/balance", {"amount": "75.5", "reason": "Invoice 7 paid"})
    assert done.status_code in (302, 303)
    page = await client.get(done.headers["location"])
    assert "Balance changed." in page.text and "75.50 EUR" in page.text and "Invoice 7 paid" in page.text
    bad = await post_form(client, f"{url}/balance", {"amount": "seventy", "reason": "Invoice 8"})
    assert bad.status_code == 422 and "amount" in bad.text and 'value="seventy"' in bad.text
    assert await balance_of(world.a.end_user_id) == to_micros("75.5")
    # The header shows the signed-in partner's own balance.
    assert "1,000.00 EUR" in page.text
