"""BIL-4 without packs: a partner's plan on a channel prices a destination at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.billing import rates
from core.billing.pricing import price_list
from core.billing.rate_schemas import RateIn, RatePlanCreate
from core.numbering.services import Destination, load_seed
from tests.core.billing.test_rate_plans import reseller_actor
from tests.factories import make_world

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
MOVISTAR = Destination("ES", "Spain", "214", "07", "Movistar")
ORANGE = Destination("ES", "Spain", "214", "03", "Orange")
SPAIN = Destination("ES", "Spain", "214", "", "All networks")
GERMANY = Destination("DE", "Germany", "262", "01", "Telekom")


async def plan_for_company(world, *rate_list: RateIn, mode: str = "submitted"):
    await load_seed()
    reseller = await reseller_actor(world.a)
    plan = await rates.create_plan(reseller, RatePlanCreate(name="Retail SMS", channel="sms", mode=mode))
    for rate in rate_list:
        await rates.add_rate(reseller, plan.id, rate)
    await rates.assign_plan(reseller, plan.id, world.a.end_user_id)
    return reseller, plan


async def test_network_rate_wins_over_the_countrys_all_networks_rate():
    world = await make_world()
    _, plan = await plan_for_company(
        world,
        RateIn(country_iso="ES", mcc="214", mnc="07", price=Decimal("0.031")),
        RateIn(country_iso="ES", mcc="214", price=Decimal("0.045")),
    )
    prices = await price_list(world.a.end_user_id, "sms", NOW)
    assert prices is not None
    assert (prices.plan_id, prices.mode, prices.currency) == (plan.id, "submitted", "EUR")
    assert prices.price(MOVISTAR) == 31_000
    assert prices.price(ORANGE) == 45_000  # no Orange rate: Spain's All networks
    assert prices.price(SPAIN) == 45_000
    assert prices.price(GERMANY) is None  # no rate for destination


async def test_rates_count_only_inside_their_validity_period():
    world = await make_world()
    await plan_for_company(
        world,
        RateIn(country_iso="ES", mcc="214", mnc="07", price=Decimal("0.03"), valid_to=NOW),
        RateIn(country_iso="ES", mcc="214", mnc="07", price=Decimal("0.05"), valid_from=NOW),
        RateIn(country_iso="ES", mcc="214", price=Decimal("0.06"), valid_from=NOW + timedelta(days=30)),
    )
    before = await price_list(world.a.end_user_id, "sms", NOW - timedelta(seconds=1))
    at = await price_list(world.a.end_user_id, "sms", NOW)
    later = await price_list(world.a.end_user_id, "sms", NOW + timedelta(days=31))
    assert before.price(MOVISTAR) == 30_000 and before.price(ORANGE) is None
    assert at.price(MOVISTAR) == 50_000 and at.price(ORANGE) is None
    assert later.price(ORANGE) == 60_000


async def test_no_plan_on_the_channel_is_none_and_the_mode_comes_from_the_plan():
    world = await make_world()
    await plan_for_company(world, RateIn(country_iso="ES", mcc="214", price=Decimal("0.04")), mode="delivered")
    assert await price_list(world.a.end_user_id, "viber", NOW) is None
    assert await price_list(world.b.reseller_id, "sms", NOW) is None
    prices = await price_list(world.a.end_user_id, "sms", NOW)
    assert prices.mode == "delivered" and prices.price(SPAIN) == 40_000


async def test_the_demo_prices_an_acme_campaign():
    from core.demo import seed_demo
    from core.numbering.services import prefix_index
    from core.tenancy.tables import Partner

    await seed_demo()
    acme = await Partner.select(Partner.id).where(Partner.name == "Acme Retail").first()
    skyline = await Partner.select(Partner.id).where(Partner.name == "Skyline Messaging").first()
    index = await prefix_index()
    prices = await price_list(acme["id"], "sms", datetime.now(UTC))
    assert prices is not None and prices.mode == "submitted"
    assert prices.price(index.resolve("34609123456")) == 32_000  # Movistar
    assert prices.price(index.resolve("34655123456")) == 45_000  # Orange: Spain's All networks
    assert prices.price(index.resolve("380501234567")) is None  # Ukraine: no rate
    assert (await price_list(skyline["id"], "sms", datetime.now(UTC))).plan_id == prices.plan_id
