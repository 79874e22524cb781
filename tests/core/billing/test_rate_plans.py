"""BIL-2: rate plans, their rates (one by one and by CSV) and their assignment to partners, with scoping."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.accounts.services import load_actor
from core.accounts.tables import User
from core.billing import rates
from core.billing.rate_schemas import RateIn, RatePlanCreate, RatePlanUpdate, RateUpdate
from core.billing.tables import PlanAssignment, Rate
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.numbering.book import CsvError
from core.numbering.services import load_seed
from core.tenancy.tables import AuditEntry
from tests.factories import make_world

RATES_CSV = (
    b"country_iso,mcc,mnc,price,valid_from,valid_to\nES,214,07,0.031,,\nES,214,,0.045,,\nDE,262,01,0.07,2027-01-01,\n"
)


async def actor_of(email: str):
    user = await User.select(User.id).where(User.email == email).first()
    actor = await load_actor(user["id"], 0, check_portal=False)
    assert actor is not None
    return actor


async def reseller_actor(tenant):
    return await actor_of(tenant.reseller_admin)


async def new_plan(actor, name: str = "Retail SMS", channel: str = "sms"):
    return await rates.create_plan(actor, RatePlanCreate(name=name, channel=channel))


async def test_reseller_creates_a_plan_in_its_currency_and_the_audit_log_shows_it():
    world = await make_world()
    reseller = await reseller_actor(world.a)
    plan = await new_plan(reseller)
    assert (plan.partner_id, plan.currency, plan.mode, plan.channel) == (world.a.reseller_id, "EUR", "submitted", "sms")
    updated = await rates.update_plan(reseller, plan.id, RatePlanUpdate(name="Retail SMS 2027", mode="delivered"))
    assert (updated.name, updated.mode) == ("Retail SMS 2027", "delivered")
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(
            (AuditEntry.object_id == plan.id) & (AuditEntry.object_type == "rate_plan")
        )
    ]
    assert actions == ["rate_plan.create", "rate_plan.update"]
    with pytest.raises(Conflict):
        await new_plan(reseller, "Retail SMS 2027")
    with pytest.raises(InvalidInput, match="unknown channel"):
        await new_plan(reseller, "Pigeons", channel="pigeon")


async def test_csv_upload_replaces_the_rates_all_or_nothing():
    world = await make_world()
    await load_seed()
    reseller = await reseller_actor(world.a)
    plan = await new_plan(reseller)
    assert (await rates.upload_rates(reseller, plan.id, RATES_CSV)).rates == 3
    listed = await rates.list_rates(reseller, plan.id)
    assert [(r.country_iso, r.mnc, r.price) for r in listed.items] == [
        ("DE", "01", Decimal("0.07")),
        ("ES", "", Decimal("0.045")),
        ("ES", "07", Decimal("0.031")),
    ]
    assert listed.items[0].valid_from == datetime(2027, 1, 1, tzinfo=UTC)
    bad = b"country_iso,mcc,mnc,price\nES,214,07,0.02\nES,214,99,0.03\n"
    with pytest.raises(CsvError) as caught:
        await rates.upload_rates(reseller, plan.id, bad)
    assert caught.value.detail == "Row 3, mnc: no network 214 99 in the numbering book"
    assert await Rate.count().where(Rate.plan == plan.id) == 3  # the old rates stay


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"country_iso,mcc,price\nES,214,0.1\n", "Row 1, header: missing column(s) mnc"),
        (b"country_iso,mcc,mnc,price\nES,214,,abc\n", "Row 2, price: 'abc' is not an amount"),
        (b"country_iso,mcc,mnc,price\nXX,214,,0.1\n", "Row 2, country_iso: XX is not in the numbering book"),
        (b"country_iso,mcc,mnc,price\nES,262,,0.1\n", "Row 2, mcc: 262 is not an MCC of ES"),
        (b"country_iso,mcc,mnc,price,valid_from\nES,214,,0.1,\nES,214,,0.2,2027-01-01\n", "Row 3, valid_from: ES All"),
        (b"country_iso,mcc,mnc,price,valid_from,valid_to\nES,214,,0.1,2027-02-01,2027-01-01\n", "Row 2, valid_to"),
        (b"country_iso,mcc,mnc,price,valid_from\nES,214,,0.1,tomorrow\n", "Row 2, valid_from: 'tomorrow'"),
    ],
)
async def test_csv_errors_name_the_row_and_the_field(body, message):
    world = await make_world()
    await load_seed()
    reseller = await reseller_actor(world.a)
    plan = await new_plan(reseller)
    with pytest.raises(CsvError) as caught:
        await rates.upload_rates(reseller, plan.id, body)
    assert message in caught.value.detail
    assert await Rate.count().where(Rate.plan == plan.id) == 0


async def test_rates_are_edited_one_by_one_without_overlapping_periods():
    world = await make_world()
    await load_seed()
    reseller = await reseller_actor(world.a)
    plan = await new_plan(reseller)
    rate = await rates.add_rate(reseller, plan.id, RateIn(country_iso="ES", mcc="214", mnc="07", price=Decimal("0.03")))
    with pytest.raises(Conflict, match="ES 214 07 already has a rate for this period"):
        await rates.add_rate(reseller, plan.id, RateIn(country_iso="ES", mcc="214", mnc="07", price=Decimal("0.04")))
    ends = datetime(2027, 6, 1, tzinfo=UTC)
    changed = await rates.update_rate(reseller, rate.id, RateUpdate(price=Decimal("0.035"), valid_to=ends))
    assert (changed.price, changed.valid_to) == (Decimal("0.035"), ends)
    later = RateIn(country_iso="ES", mcc="214", mnc="07", price=Decimal("0.04"), valid_from=ends)
    assert (await rates.add_rate(reseller, plan.id, later)).price == Decimal("0.04")
    assert await rates.delete_rate(reseller, rate.id) == plan.id
    assert (await rates.list_rates(reseller, plan.id)).total == 1


async def test_a_partner_has_one_plan_per_channel():
    world = await make_world()
    reseller = await reseller_actor(world.a)
    first, second = await new_plan(reseller, "Basic"), await new_plan(reseller, "Premium")
    viber = await new_plan(reseller, "Viber", channel="viber")
    await rates.assign_plan(reseller, first.id, world.a.end_user_id)
    await rates.assign_plan(reseller, viber.id, world.a.end_user_id)
    await rates.assign_plan(reseller, second.id, world.a.end_user_id)  # replaces Basic on sms
    plans = await rates.partner_plans(reseller, world.a.end_user_id)
    assert [(p.channel, p.plan_name) for p in plans] == [("sms", "Premium"), ("viber", "Viber")]
    assert await PlanAssignment.count().where(PlanAssignment.partner == world.a.end_user_id) == 2
    assert await rates.list_assignments(reseller, first.id) == []
    await rates.unassign_plan(reseller, second.id, world.a.end_user_id)
    assert [p.channel for p in await rates.partner_plans(reseller, world.a.end_user_id)] == ["viber"]


async def test_plans_go_only_to_partners_below_the_offering_partner():
    world = await make_world()
    reseller = await reseller_actor(world.a)
    plan = await new_plan(reseller)
    with pytest.raises(InvalidInput, match="offers this plan"):
        await rates.assign_plan(reseller, plan.id, world.a.reseller_id)
    owner_plan = await new_plan(world.owner, "Wholesale")
    await rates.assign_plan(world.owner, owner_plan.id, world.a.reseller_id)
    assert [p["id"] for p in await rates.assignable_partners(reseller, plan.id)] == [world.a.end_user_id]


async def test_reseller_cannot_see_or_assign_another_tenants_plans():
    world = await make_world()
    a, b = await reseller_actor(world.a), await reseller_actor(world.b)
    plan_b = await new_plan(b, "B's plan")
    plan_a = await new_plan(a, "A's plan")
    assert [p.name for p in (await rates.list_plans(a)).items] == ["A's plan", "SMS A"]
    with pytest.raises(NotFound):
        await rates.get_plan(a, plan_b.id)
    with pytest.raises(NotFound):
        await rates.assign_plan(a, plan_b.id, world.a.end_user_id)
    with pytest.raises(NotFound):  # another tenant's partner
        await rates.assign_plan(a, plan_a.id, world.b.end_user_id)
    owner_sees = {p.name for p in (await rates.list_plans(world.owner)).items}
    assert owner_sees == {"A's plan", "B's plan", "SMS A", "SMS B"}


async def test_operators_read_plans_but_do_not_change_them():
    world = await make_world()
    plan = await new_plan(await reseller_actor(world.a))
    operator = await actor_of(world.a.reseller_operator)
    assert (await rates.get_plan(operator, plan.id)).name == "Retail SMS"
    with pytest.raises(Forbidden):
        await rates.update_plan(operator, plan.id, RatePlanUpdate(name="Cheap"))
