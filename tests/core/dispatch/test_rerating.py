"""Rerating (BIL-10): after a retroactive rate change the owner prices a finished campaign again at every level,
through the real engine and database; the differences are Rerating ledger rows and balance changes, once."""

from __future__ import annotations

import pytest

from core.billing.tables import LedgerEntry, Rate
from core.campaigns.rerating import rerate_campaign
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.campaigns.tables import Campaign
from core.db import json_value
from core.dispatch.tables import Edr
from core.errors import Conflict, NotFound
from core.money import from_micros
from core.tenancy.tables import Partner
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import ES_ALL, ES_VODAFONE, FUNDS, R_VODAFONE, SmsWorld, fund, hold, level_plan
from tests.core.dispatch.conftest import wait_for_status as finished
from tests.factories import api_token

VODAFONE = [f"34607{n:06d}" for n in range(4)]
OTHER = [f"34612{n:06d}" for n in range(2)]  # Spanish, not Vodafone: the All networks rate, which does not change


async def balance(partner_id: int) -> int:
    return (await Partner.select(Partner.balance).where(Partner.id == partner_id).first())["balance"]


async def reratings(partner_id: int) -> list[dict]:
    return await LedgerEntry.select().where((LedgerEntry.partner == partner_id) & (LedgerEntry.kind == "rerating"))


async def test_the_owner_rerates_a_finished_campaign_at_every_level_once(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    reseller_plan = await level_plan(reseller)
    await fund(reseller, FUNDS)
    await hold(sms.tenant.end_user_id, 2)  # pays for two of the Vodafone messages: the client's rerating skips them
    created = await create_campaign(
        app.state.portal,
        sms.actor,
        CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=[*VODAFONE, *OTHER]),
    )
    done = await finished(created.id, {"completed"})
    assert done["cost"] == 2 * ES_VODAFONE + 2 * ES_ALL
    client_before, reseller_before = await balance(sms.tenant.end_user_id), await balance(reseller)

    # Retroactive changes: the client's Vodafone rate goes up by 0.005, the reseller's down by 0.005.
    await Rate.update({Rate.price: ES_VODAFONE + 5_000}).where((Rate.plan == sms.plan_id) & (Rate.mnc == "01"))
    await Rate.update({Rate.price: R_VODAFONE - 5_000}).where((Rate.plan == reseller_plan) & (Rate.mnc == "01"))

    preview = await rerate_campaign(sms.world.owner, created.id)
    assert preview.changed and not preview.applied
    by_depth = {lv.depth: lv for lv in preview.levels}
    assert (by_depth[0].partner_id, by_depth[0].messages) == (sms.tenant.end_user_id, 4)
    assert by_depth[0].difference == from_micros(2 * 5_000)
    assert by_depth[0].after == from_micros(2 * (ES_VODAFONE + 5_000) + 2 * ES_ALL)
    # The reseller paid for all six, its client's pack or not: all its Vodafone charges are repriced.
    assert (by_depth[1].partner_id, by_depth[1].messages) == (reseller, 6)
    assert by_depth[1].difference == from_micros(-4 * 5_000)
    assert await balance(sms.tenant.end_user_id) == client_before  # a preview books nothing
    assert await reratings(sms.tenant.end_user_id) == []

    applied = await rerate_campaign(sms.world.owner, created.id, apply=True)
    assert applied.applied
    assert await balance(sms.tenant.end_user_id) == client_before - 2 * 5_000
    assert await balance(reseller) == reseller_before + 4 * 5_000
    [client_row] = await reratings(sms.tenant.end_user_id)
    [reseller_row] = await reratings(reseller)
    assert (client_row["amount"], reseller_row["amount"]) == (-2 * 5_000, 4 * 5_000)
    assert json_value(client_row["details"])["lines"][0]["quantity"] == 2  # only its plan-paid Vodafone messages
    # The messages and the campaign carry the new prices, so its cost and the ledger agree.
    edrs = await Edr.select(Edr.rate, Edr.pack).where(Edr.campaign == created.id)
    assert sorted(e["rate"] for e in edrs if e["pack"] is None) == [ES_VODAFONE + 5_000] * 2 + [ES_ALL] * 2
    cost = (await Campaign.select(Campaign.cost).where(Campaign.id == created.id).first())["cost"]
    assert cost == 2 * (ES_VODAFONE + 5_000) + 2 * ES_ALL

    again = await rerate_campaign(sms.world.owner, created.id, apply=True)
    assert not again.changed and not again.applied
    assert len(await reratings(sms.tenant.end_user_id)) == 1 and len(await reratings(reseller)) == 1


async def test_only_the_owner_rerates_and_only_finished_campaigns(app, sms: SmsWorld):
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE)
    )
    await finished(created.id, {"completed"})
    # The company itself and its own reseller: the feature is not there for them (404, as for a missing page).
    for someone in (sms.actor, await actor_of(sms.tenant, sms.tenant.reseller_admin)):
        with pytest.raises(NotFound):
            await rerate_campaign(someone, created.id)
    with pytest.raises(NotFound):
        await rerate_campaign(sms.world.owner, created.id + 10_000)
    await Campaign.update({Campaign.status: "paused"}).where(Campaign.id == created.id)
    with pytest.raises(Conflict, match="once it has finished"):
        await rerate_campaign(sms.world.owner, created.id)


async def test_a_balance_that_cannot_take_the_extra_charge_refuses_the_whole_rerating(app, sms: SmsWorld):
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE)
    )
    await finished(created.id, {"completed"})
    await Partner.update({Partner.balance: 0, Partner.credit_limit: 0}).where(Partner.id == sms.tenant.end_user_id)
    await Rate.update({Rate.price: ES_VODAFONE * 2}).where((Rate.plan == sms.plan_id) & (Rate.mnc == "01"))

    with pytest.raises(Conflict, match="cannot take the extra"):
        await rerate_campaign(sms.world.owner, created.id, apply=True)
    assert await reratings(sms.tenant.end_user_id) == []
    rates = {e["rate"] for e in await Edr.select(Edr.rate).where(Edr.campaign == created.id)}
    assert rates == {ES_VODAFONE}  # nothing half-done


async def test_the_api_previews_and_books_and_hides_it_from_others(app, sms: SmsWorld, client_for):
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE)
    )
    await finished(created.id, {"completed"})
    await Rate.update({Rate.price: ES_VODAFONE - 10_000}).where((Rate.plan == sms.plan_id) & (Rate.mnc == "01"))
    owner = client_for(sms.world.owner_host)
    headers = await api_token(owner, "owner@main.test")
    url = f"/api/admin/campaigns/{created.id}/rerating"

    preview = await owner.get(url, headers=headers)
    assert preview.status_code == 200, preview.text
    assert preview.json()["changed"] is True and preview.json()["levels"][0]["difference"] == "-0.04"
    reseller = client_for(sms.tenant.host)
    reseller_headers = await api_token(reseller, sms.tenant.reseller_admin)
    assert (await reseller.post(url, headers=reseller_headers)).status_code == 404

    booked = await owner.post(url, headers=headers)
    assert booked.status_code == 200 and booked.json()["applied"] is True
    assert await balance(sms.tenant.end_user_id) == FUNDS - 4 * (ES_VODAFONE - 10_000)
    assert (await owner.get(f"/api/admin/campaigns/{created.id + 999}/rerating", headers=headers)).status_code == 404


async def test_a_reseller_charged_only_through_its_pack_is_not_rerated_when_it_gets_a_plan_later(app, sms: SmsWorld):
    reseller = sms.tenant.reseller_id
    await fund(reseller, FUNDS)
    await hold(reseller, 2)  # no plan from the owner: the pack pays for two of its charges, the rest cost it nothing
    created = await create_campaign(
        app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=VODAFONE)
    )
    await finished(created.id, {"completed"})
    reseller_before = await balance(reseller)

    await level_plan(reseller)  # a plan given since, with rates valid at the campaign's start
    applied = await rerate_campaign(sms.world.owner, created.id, apply=True)

    assert reseller not in {lv.partner_id for lv in applied.levels}
    assert await balance(reseller) == reseller_before and await reratings(reseller) == []
