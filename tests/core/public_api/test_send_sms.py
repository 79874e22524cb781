"""POST/GET /api/send_sms (API-2): accepted on the dispatch engine, sent through the stand-in SMSC, paid once."""

from __future__ import annotations

import re

from core.billing.tables import LedgerEntry
from core.contacts.schemas import Selection, StopListChange
from core.contacts.stoplist import block
from core.public_api.tables import ApiRequest
from tests.core.dispatch.conftest import ES_ALL, ES_VODAFONE, add_plan
from tests.core.public_api.conftest import FUNDS, api_edrs, balance, bearer, fund, wait_for_edrs

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def message(**extra: object) -> dict[str, object]:
    return {"channels": ["SMS"], "from": "BrandA", "to": "34612345001", "message": "Hello", **extra}


async def test_messages_are_delivered_through_the_smsc_and_charged_once(client_for, sms):
    client = client_for(sms.tenant.host)
    body = [message(to="34612345001", clientRef="order-1"), message(to="+34 607 123 456", message="Hola")]
    reply = await client.post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r.split(":", 1)[0] for r in results] == ["34612345001", "34607123456"]
    assert all(UUID.match(r.split(":", 1)[1]) for r in results)
    rows = await wait_for_edrs({"DELIVERED"}, 2)
    assert {r["transaction_id"] for r in rows} == {r.split(":", 1)[1] for r in results}
    assert {r["destination"]: r["price"] for r in rows} == {"34612345001": ES_ALL, "34607123456": ES_VODAFONE}
    assert all(r["api_key"] == sms.tenant.api_key_id and r["campaign"] is None for r in rows)
    assert {r["destination"]: r["client_ref"] for r in rows}["34612345001"] == "order-1"
    assert sms.smsc.submitted == {"34612345001": 1, "34607123456": 1}  # each sent once
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_ALL - ES_VODAFONE
    ledger = await LedgerEntry.select().where(LedgerEntry.kind == "api")
    assert len(ledger) == 1 and ledger[0]["amount"] == -(ES_ALL + ES_VODAFONE)
    assert ledger[0]["description"].startswith("API · SMS · ")
    listed = await client.get("/api/edrs", params={"source": "api"}, headers=bearer(sms.tenant.api_key))
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]  # the message records list them as API messages
    assert sorted(i["transaction_id"] for i in items) == sorted(r.split(":", 1)[1] for r in results)
    request = await ApiRequest.select().first()
    assert request["state"] == "done" and request["messages"] == 2
    again = await client.post("/api/send_sms", json=message(to="34612345002"), headers=bearer(sms.tenant.api_key))
    assert UUID.match(again.json()["results"][0].split(":", 1)[1])
    await wait_for_edrs({"DELIVERED"}, 3)
    ledger = await LedgerEntry.select().where(LedgerEntry.kind == "api")
    assert len(ledger) == 1 and ledger[0]["amount"] == -(2 * ES_ALL + ES_VODAFONE)  # one row per channel per day


async def test_get_with_a_query_string(client_for, sms):
    client = client_for(sms.tenant.host)
    reply = await client.get(
        "/api/send_sms",
        params={"channels": "SMS", "from": "BrandA", "to": "34612345001,34612345002", "message": "Hi"},
        headers=bearer(sms.tenant.api_key),
    )
    assert reply.status_code == 200, reply.text
    assert [r.split(":", 1)[0] for r in reply.json()["results"]] == ["34612345001", "34612345002"]
    repeated = await client.get(
        "/api/send_sms?channels=SMS&from=BrandA&message=Hi&to=34612345003&to=34612345004",
        headers=bearer(sms.tenant.api_key),
    )
    assert [r.split(":", 1)[0] for r in repeated.json()["results"]] == ["34612345003", "34612345004"]
    await wait_for_edrs({"SENT", "DELIVERED"}, 4)


async def test_701_recipients_with_duplicates_send_to_the_first_700_distinct(client_for, sms):
    numbers = [f"34612{n:06d}" for n in range(705)]
    body = [message(to=numbers[0]), message(to=numbers[0]), message(to=",".join(numbers))]
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    results = reply.json()["results"]
    assert len(results) == 700 and [r.split(":", 1)[0] for r in results] == numbers[:700]
    assert len(await api_edrs()) == 700
    assert await ApiRequest.count() == 1  # one request, one job: never a job per message
    assert await balance(sms.tenant.end_user_id) == FUNDS - 700 * ES_ALL


async def test_per_recipient_errors(client_for, sms):
    # The tenant's one contact, 34612345007, blocks its sender ID (CON-5): never sent to, by campaigns or the API.
    change = StopListChange(selection=Selection(ids=[sms.tenant.contact_id]), sender_ids=[sms.tenant.sender_id])
    await block(sms.actor, change)
    body = [
        message(to="+34 612 345 007"),
        message(to="3461"),
        message(to="4915123456789"),
        message(to="34612345009", **{"from": "Nobody"}),
        message(to="34612345010", channels="Viber"),
        message(to="34612345011"),
    ]
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    results = dict(r.split(":", 1) for r in reply.json()["results"])
    assert results["34612345007"] == "Stop-listed: the recipient blocked this sender ID"
    assert results["3461"].startswith("Invalid number")
    assert results["4915123456789"] == "No rate for destination"
    assert results["34612345009"] == "For message: can't validate sender Nobody"
    assert "Viber channel is not available" in results["34612345010"]
    assert UUID.match(results["34612345011"])
    assert [r["destination"] for r in await api_edrs()] == ["34612345011"]
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_ALL


async def test_bad_parameters_are_refused_naming_them(client_for, sms):
    client = client_for(sms.tenant.host)
    key = bearer(sms.tenant.api_key)
    for body, field in [
        (message(message=""), "message"),
        (message(message="   "), "message"),
        ({"channels": "SMS", "from": "BrandA", "to": "34612345001"}, "message"),
        (message(to=""), "to"),
        (message(channels=[]), "channels"),
        (message(**{"from": ""}), "from"),
        (message(isFlashed="maybe"), "isFlashed"),
        ([], "message"),
    ]:
        reply = await client.post("/api/send_sms", json=body, headers=key)
        assert reply.status_code == 400, (body, reply.text)
        assert reply.json()["field"] == field
    flash_mo = await client.post("/api/send_sms", json=message(isFlashed=True, acceptMO=True), headers=key)
    assert flash_mo.status_code == 400
    assert flash_mo.json()["detail"] == "MO messages are not supported in FlashMessages!"
    flash = await client.post("/api/send_sms", json=message(isFlashed="true"), headers=key)
    assert flash.status_code == 400 and flash.json()["field"] == "isFlashed"  # the company's options say no
    mo_off = await client.post("/api/send_sms", json=message(acceptMO="true"), headers=key)
    assert mo_off.status_code == 400 and mo_off.json()["detail"] == "Partner's MO messages mode is off!"
    assert await api_edrs() == []


async def test_insufficient_balance_writes_nothing(client_for, sms):
    await fund(sms.tenant.end_user_id, -FUNDS + ES_ALL)  # enough for one message, not two
    body = message(to="34612345001,34612345002")
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 402 and "Insufficient balance" in reply.json()["detail"]
    assert await api_edrs() == [] and await ApiRequest.count() == 0
    assert await balance(sms.tenant.end_user_id) == ES_ALL


async def test_by_delivered_plans_pay_back_what_ends_undelivered(client_for, sms):
    await add_plan(sms.tenant.end_user_id, mode="delivered")
    sms.smsc.outcomes["34612345002"] = "undelivered"
    body = message(to="34612345001,34612345002")
    reply = await client_for(sms.tenant.host).post("/api/send_sms", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 200
    assert await balance(sms.tenant.end_user_id) == FUNDS - 2 * ES_ALL  # paid when accepted
    rows = await wait_for_edrs({"DELIVERED", "UNDELIVERED"}, 2)
    assert {r["destination"]: r["status"] for r in rows} == {"34612345001": "DELIVERED", "34612345002": "UNDELIVERED"}
    assert all(r["charge_on_delivery"] for r in rows)
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_ALL  # the undelivered one is paid back
    ledger = await LedgerEntry.select().where(LedgerEntry.kind == "api")
    assert [e["amount"] for e in ledger] == [-ES_ALL]
