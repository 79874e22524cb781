"""A reseller's margins per client (issue 11 item 1): what its client paid against what the reseller paid above,
from real messages sent through the engine and the stand-in SMSC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.billing.tables import HeldPack, Pack
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from core.errors import Forbidden, InvalidInput, NotFound
from core.money import from_micros
from core.statistics.margins import margins
from core.tenancy.tables import Partner
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import (
    ES_ALL,
    ES_VODAFONE,
    FUNDS,
    R_ALL,
    R_VODAFONE,
    SmsWorld,
    fund,
    hold,
    level_plan,
    wait_for_status,
)
from tests.factories import api_token

VODAFONE = [f"34607{n:06d}" for n in range(4)]
OTHER = [f"34612{n:06d}" for n in range(2)]
PACK_PRICE = 500_000


async def sold_pack(sms: SmsWorld, units: int) -> None:
    """A pack the reseller offers, bought by its client (the purchase itself is tested with the Purchase screen)."""
    reseller = await Partner.select(Partner.id, Partner.path).where(Partner.id == sms.tenant.reseller_id).first()
    now = datetime.now(UTC)
    offer = Pack(
        partner=reseller["id"],
        partner_path=reseller["path"],
        name="Spain 2",
        channel="sms",
        country_iso="ES",
        networks=[],
        price=PACK_PRICE,
        currency="EUR",
        messages=units,
        mode="submitted",
        created_at=now,
        updated_at=now,
    )
    await offer.save()
    held = await hold(sms.tenant.end_user_id, units)
    await HeldPack.update({HeldPack.pack_id: offer.id, HeldPack.price: PACK_PRICE}).where(HeldPack.id == held)


async def test_a_reseller_sees_what_each_client_brought_in_and_cost_it(app, sms: SmsWorld, client_for):
    await level_plan(sms.tenant.reseller_id)
    await fund(sms.tenant.reseller_id, FUNDS)
    await sold_pack(sms, 2)  # pays for two Vodafone messages: the client pays the reseller nothing more for them
    created = await create_campaign(
        app.state.portal,
        sms.actor,
        CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=[*VODAFONE, *OTHER]),
    )
    await wait_for_status(created.id, {"completed"})
    reseller = await actor_of(sms.tenant, sms.tenant.reseller_admin)
    day = datetime.now(UTC).date()

    report = await margins(reseller, day - timedelta(days=1), day + timedelta(days=1))

    [client] = report.clients
    revenue = 2 * ES_VODAFONE + 2 * ES_ALL
    cost = 4 * R_VODAFONE + 2 * R_ALL
    assert (client.partner_id, client.messages) == (sms.tenant.end_user_id, 6)
    assert (client.revenue, client.packs_sold, client.cost) == (
        from_micros(revenue),
        from_micros(PACK_PRICE),
        from_micros(cost),
    )
    assert client.margin == from_micros(revenue + PACK_PRICE - cost) == report.total.margin
    # A period without the messages shows nothing for them.
    assert (await margins(reseller, day - timedelta(days=30), day - timedelta(days=2))).clients == []

    response = await client_for(sms.tenant.host).get(
        f"/api/admin/margins?date_from={day - timedelta(days=1)}&date_to={day + timedelta(days=1)}",
        headers=await api_token(client_for(sms.tenant.host), sms.tenant.reseller_admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["clients"][0]["margin"] == str(client.margin)


async def test_margins_are_a_reseller_admin_s_own_and_the_period_is_checked(app, sms: SmsWorld):
    day = datetime.now(UTC).date()
    for someone in (sms.actor, sms.world.owner):  # an end user has no clients; the owner no provider above it
        with pytest.raises(NotFound):
            await margins(someone, day, day)
    with pytest.raises(Forbidden):
        await margins(await actor_of(sms.tenant, sms.tenant.reseller_operator), day, day)
    reseller = await actor_of(sms.tenant, sms.tenant.reseller_admin)
    with pytest.raises(InvalidInput) as reversed_period:
        await margins(reseller, day, day - timedelta(days=1))
    assert reversed_period.value.field == "date_to"
    # The other reseller sees none of this tenant's clients, whose reseller does.
    await level_plan(sms.tenant.reseller_id)
    await fund(sms.tenant.reseller_id, FUNDS)
    other = await actor_of(sms.world.b, sms.world.b.reseller_admin)
    await wait_for_status(
        (
            await create_campaign(
                app.state.portal, sms.actor, CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=OTHER)
            )
        ).id,
        {"completed"},
    )
    assert (await margins(other, day, day)).clients == []
    assert [c.partner_id for c in (await margins(reseller, day, day)).clients] == [sms.tenant.end_user_id]
