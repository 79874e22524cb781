"""Chain charging of /api/send_sms (issue 11 item 1): the reseller above the key's company pays its own price."""

from __future__ import annotations

from core.billing.tables import LedgerEntry
from core.dispatch.tables import EdrCharge
from core.public_api.tables import ApiRequest
from core.tenancy.tables import Partner
from tests.core.dispatch.conftest import ES_ALL, ES_VODAFONE, R_ALL, R_VODAFONE, add_plan, level_plan
from tests.core.public_api.conftest import FUNDS, api_edrs, balance, bearer, fund, wait_for_edrs


def message(**extra: object) -> dict[str, object]:
    return {"channels": ["SMS"], "from": "BrandA", "to": "34612345001", "message": "Hello", **extra}


async def _set(partner_id: int, funds: int, credit_limit: int = 0) -> None:
    await fund(partner_id, funds - await balance(partner_id))
    await Partner.update({Partner.credit_limit: credit_limit}).where(Partner.id == partner_id)


async def test_each_level_pays_its_own_price_on_its_own_daily_api_row(client_for, sms):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller)
    await _set(reseller, FUNDS)
    body = [message(to="34612345001"), message(to="34607123456")]
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 200, reply.text
    await wait_for_edrs({"DELIVERED"}, 2)
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_ALL - ES_VODAFONE
    assert await balance(reseller) == FUNDS - R_ALL - R_VODAFONE
    rows = await LedgerEntry.select().where((LedgerEntry.kind == "api") & (LedgerEntry.partner == reseller))
    assert len(rows) == 1 and rows[0]["amount"] == -(R_ALL + R_VODAFONE)
    assert rows[0]["description"].startswith("API · SMS · ")
    assert sorted(r["price"] for r in await EdrCharge.select().where(EdrCharge.partner == reseller)) == [
        R_VODAFONE,
        R_ALL,
    ]


async def test_by_delivered_releases_at_the_reseller_too(client_for, sms):
    reseller = sms.tenant.reseller_id
    await add_plan(sms.tenant.end_user_id, mode="delivered")
    await level_plan(reseller)
    await _set(reseller, FUNDS)
    sms.smsc.outcomes["34612345002"] = "undelivered"
    body = message(to="34612345001,34612345002")
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 200
    assert await balance(reseller) == FUNDS - 2 * R_ALL  # reserved when accepted
    await wait_for_edrs({"DELIVERED", "UNDELIVERED"}, 2)
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_ALL
    assert await balance(reseller) == FUNDS - R_ALL


async def test_a_reseller_that_cannot_pay_makes_it_402_and_nobody_is_charged(client_for, sms):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller)
    await _set(reseller, R_ALL)  # enough for one message, not two
    body = message(to="34612345001,34612345002")
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 402, reply.text
    assert "provider" in reply.json()["detail"] and "balance" not in reply.json()["detail"].lower()
    assert await api_edrs() == [] and await ApiRequest.count() == 0 and await EdrCharge.count() == 0
    assert await balance(sms.tenant.end_user_id) == FUNDS
    assert await balance(reseller) == R_ALL


async def test_no_rate_at_the_reseller_fails_the_message_uncharged(client_for, sms):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller, others=None)  # Vodafone only
    await _set(reseller, FUNDS)
    body = message(to="34612345001,34607123456")
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 200, reply.text
    results = dict(r.split(":", 1) for r in reply.json()["results"])
    assert results["34612345001"] == "No rate for destination"
    await wait_for_edrs({"DELIVERED"}, 1)
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_VODAFONE
    assert await balance(reseller) == FUNDS - R_VODAFONE
