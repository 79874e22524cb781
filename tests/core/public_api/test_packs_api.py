"""Packs pay for /api/send_sms messages too (BIL-4): before the plan, once, and back when By Delivered fails."""

from __future__ import annotations

from core.billing.finance import get_entry
from core.billing.tables import HeldPack, LedgerEntry, PlanAssignment
from core.db import json_value
from core.dispatch.tables import EdrCharge
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import ES_ALL, R_ALL, hold, level_plan
from tests.core.public_api.conftest import FUNDS, balance, bearer, fund, wait_for_edrs
from tests.waiting import eventually

NUMBERS = [f"34612345{n:03d}" for n in range(1, 5)]  # Spanish, All networks


def message(to: str, **extra: object) -> dict[str, object]:
    return {"channels": ["SMS"], "from": "BrandA", "to": to, "message": "Hello", **extra}


async def remaining(pack_id: int) -> int:
    return (await HeldPack.select(HeldPack.remaining).where(HeldPack.id == pack_id).first())["remaining"]


async def test_the_pack_pays_first_and_the_plan_for_the_rest(client_for, sms):
    pack = await hold(sms.tenant.end_user_id, 3)
    reply = await client_for(sms.tenant.host).post(
        "/api/send_sms", json=message(",".join(NUMBERS)), headers=bearer(sms.tenant.api_key)
    )
    assert reply.status_code == 200, reply.text
    rows = await wait_for_edrs({"DELIVERED"}, 4)
    assert sorted((r["pack"] or 0, r["price"]) for r in rows) == [(0, ES_ALL)] + [(pack, 0)] * 3
    assert await remaining(pack) == 0
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_ALL


async def test_without_a_plan_a_pack_sends_until_it_runs_out_and_gives_back_what_is_not_delivered(client_for, sms):
    await PlanAssignment.delete().where(PlanAssignment.partner == sms.tenant.end_user_id)
    pack = await hold(sms.tenant.end_user_id, 3, mode="delivered")
    sms.smsc.outcomes[NUMBERS[1]] = "undelivered"
    reply = await client_for(sms.tenant.host).post(
        "/api/send_sms", json=message(",".join(NUMBERS)), headers=bearer(sms.tenant.api_key)
    )
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    # The fourth number has neither a plan rate nor a unit left: refused in the answer, nothing written for it.
    assert results[3] == f"{NUMBERS[3]}:No rate for destination"
    await wait_for_edrs({"DELIVERED", "UNDELIVERED"}, 3)

    async def given_back() -> bool:
        return await remaining(pack) == 1

    await eventually(given_back)  # three taken, the undelivered one back (By Delivered)
    assert await balance(sms.tenant.end_user_id) == FUNDS


async def test_a_reseller_s_own_pack_pays_its_charges_for_api_messages_and_gets_undelivered_ones_back(client_for, sms):
    reseller = sms.tenant.reseller_id
    await level_plan(reseller)
    await fund(reseller, FUNDS)
    before = await balance(reseller)
    own = await hold(sms.tenant.end_user_id, 3, mode="delivered")
    level_pack = await hold(reseller, 2)
    sms.smsc.outcomes[NUMBERS[1]] = "undelivered"
    reply = await client_for(sms.tenant.host).post(
        "/api/send_sms", json=message(",".join(NUMBERS[:3])), headers=bearer(sms.tenant.api_key)
    )
    assert reply.status_code == 200, reply.text
    rows = await wait_for_edrs({"DELIVERED", "UNDELIVERED"}, 3)
    # The reseller's pack pays its charges for the first two messages, its plan for the third.
    charges = {
        c["edr"]: c["pack"]
        for c in await EdrCharge.select().where(EdrCharge.partner == reseller).order_by(EdrCharge.edr)
    }
    assert [charges[r["id"]] for r in rows] == [level_pack, None, None]  # the undelivered one's unit came back
    assert await balance(reseller) == before - R_ALL

    async def given_back() -> bool:
        return (await remaining(own), await remaining(level_pack)) == (1, 1)

    await eventually(given_back)  # By Delivered: the undelivered message's units go back at both levels
    assert await balance(sms.tenant.end_user_id) == FUNDS
    # Finance: each level's API row of the day counts the messages its packs paid for, less the one given back.
    for partner, used in ((sms.tenant.end_user_id, 2), (reseller, 1)):
        row = await LedgerEntry.select().where((LedgerEntry.partner == partner) & (LedgerEntry.kind == "api")).first()
        assert json_value(row["details"])["from_packs"] == used, (partner, row["details"])


async def test_a_reseller_without_a_plan_has_its_pack_pay_its_charges_for_api_messages_and_is_charged_nothing(
    client_for, sms
):
    reseller = sms.tenant.reseller_id
    await fund(reseller, FUNDS)
    before = await balance(reseller)
    level_pack = await hold(reseller, 2)  # the owner set the reseller no plan: only this pack
    reply = await client_for(sms.tenant.host).post(
        "/api/send_sms", json=message(",".join(NUMBERS[:3])), headers=bearer(sms.tenant.api_key)
    )
    assert reply.status_code == 200, reply.text
    rows = await wait_for_edrs({"DELIVERED"}, 3)

    # The client pays its plan for all three, once; the third message, beyond the pack, costs the reseller nothing.
    assert await remaining(level_pack) == 0
    assert await balance(sms.tenant.end_user_id) == FUNDS - 3 * ES_ALL
    assert await balance(reseller) == before
    charges = {c["edr"]: (c["pack"], c["price"]) for c in await EdrCharge.select().where(EdrCharge.partner == reseller)}
    assert [charges[r["id"]] for r in rows] == [(level_pack, 0), (level_pack, 0), (None, 0)]
    # Finance: the reseller's API row of the day moved nothing and counts the messages its pack paid for.
    row = await LedgerEntry.select().where((LedgerEntry.partner == reseller) & (LedgerEntry.kind == "api")).first()
    entry = await get_entry(await actor_of(sms.tenant, sms.tenant.reseller_admin), row["id"])
    assert entry.amount == 0 and entry.from_packs == 2


async def test_a_reseller_with_neither_pack_nor_plan_has_no_rows_for_api_messages(client_for, sms):
    reseller = sms.tenant.reseller_id
    before = await balance(reseller)
    reply = await client_for(sms.tenant.host).post(
        "/api/send_sms", json=message(",".join(NUMBERS[:2])), headers=bearer(sms.tenant.api_key)
    )
    assert reply.status_code == 200, reply.text
    await wait_for_edrs({"DELIVERED"}, 2)

    assert await balance(sms.tenant.end_user_id) == FUNDS - 2 * ES_ALL and await balance(reseller) == before
    assert await EdrCharge.count().where(EdrCharge.partner == reseller) == 0
    assert await LedgerEntry.count().where((LedgerEntry.partner == reseller) & (LedgerEntry.kind == "api")) == 0
