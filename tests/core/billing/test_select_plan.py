"""BIL-8 "select plan": a client picks, on its Purchase screen or by the API, a rate plan its provider offers for
picking; the provider's other plans stay out of its sight, and the rule is the one of an assignment by the parent."""

from __future__ import annotations

import pytest

from core.billing import purchase, rates
from core.billing.rate_schemas import RatePlanCreate
from core.billing.tables import PlanAssignment, RatePlan
from core.db import json_value
from core.errors import Forbidden, NotFound
from core.tenancy.tables import AuditEntry
from tests.core.billing.test_rate_plans import actor_of
from tests.factories import api_token, make_world, post_form, sign_in


async def plan_of(partner_id: int, channel: str = "sms") -> int | None:
    row = (
        await PlanAssignment.select(PlanAssignment.plan).where(PlanAssignment.slot == f"{partner_id}:{channel}").first()
    )
    return row["plan"] if row else None


async def offer_plans(tenant) -> tuple[int, int]:
    """The reseller's plan its clients may pick, and one it keeps for assigning itself."""
    reseller = await actor_of(tenant.reseller_admin)
    open_plan = await rates.create_plan(reseller, RatePlanCreate(name="Pick me SMS", channel="sms", selectable=True))
    kept = await rates.create_plan(reseller, RatePlanCreate(name="Private SMS", channel="sms"))
    return open_plan.id, kept.id


async def test_a_client_selects_a_plan_on_its_purchase_screen_and_sees_only_the_plans_it_may_pick(client_for):
    world = await make_world()
    open_plan, kept = await offer_plans(world.a)
    assigned = await plan_of(world.a.end_user_id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = (await client.get("/purchase?tab=plans")).text
    assert "Pick me SMS" in page and "Select plan" in page
    assert "Private SMS" not in page  # meant for other clients: not shown

    chosen = await post_form(client, f"/purchase/plans/{open_plan}/select")
    assert chosen.status_code in (302, 303), chosen.text
    assert await plan_of(world.a.end_user_id) == open_plan
    done = (await client.get(chosen.headers["location"])).text
    assert "Pick me SMS is now your rate plan" in done
    audit = await AuditEntry.select().where(AuditEntry.action == "rate_plan.assign").order_by(AuditEntry.id)
    assert json_value(audit[-1]["details"])["replaced_plan_id"] == assigned

    # A plan kept for assigning, or another provider's plan even when it is open for picking, is a 404.
    assert (await post_form(client, f"/purchase/plans/{kept}/select")).status_code == 404
    b_open, _ = await offer_plans(world.b)
    assert (await post_form(client, f"/purchase/plans/{b_open}/select")).status_code == 404
    assert await plan_of(world.a.end_user_id) == open_plan


async def test_the_api_lists_and_selects_plans_and_operators_cannot_select(client_for):
    world = await make_world()
    open_plan, kept = await offer_plans(world.a)
    client = client_for(world.a.host)
    user = await api_token(client, world.a.end_user_admin)
    listed = (await client.get("/api/packs/plans", headers=user)).json()
    assert {(p["name"], p["selectable"]) for p in listed} >= {("Pick me SMS", True)}
    assert "Private SMS" not in {p["name"] for p in listed}
    operator = await api_token(client, world.a.end_user_operator)
    refused = await client.post(f"/api/packs/plans/{open_plan}/select", headers=operator)
    assert refused.status_code == 403 and "Operators cannot select rate plans" in refused.text
    assert (await client.post(f"/api/packs/plans/{kept}/select", headers=user)).status_code == 404
    selected = await client.post(f"/api/packs/plans/{open_plan}/select", headers=user)
    assert selected.status_code == 200, selected.text
    assert (selected.json()["plan_id"], selected.json()["name"]) == (open_plan, "Pick me SMS")
    listed = (await client.get("/api/packs/plans", headers=user)).json()
    assert [p["current"] for p in listed if p["id"] == open_plan] == [True]
    schema = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "/api/packs/plans" in schema and "/api/packs/plans/{plan_id}/select" in schema


async def test_the_provider_opens_and_closes_a_plan_for_picking_on_its_plan_page(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    plan = world.a.rate_plan_id
    opened = await post_form(
        client, f"/admin/rate-plans/{plan}", {"name": "SMS A", "mode": "submitted", "selectable": "on"}
    )
    assert opened.status_code in (302, 303), opened.text
    assert (await RatePlan.select(RatePlan.selectable).where(RatePlan.id == plan).first())["selectable"] is True
    assert "checked" in (await client.get(f"/admin/rate-plans/{plan}")).text.split('name="selectable"')[1][:12]
    with pytest.raises(Forbidden):
        await purchase.select_plan(await actor_of(world.a.end_user_operator), plan)
    closed = await post_form(client, f"/admin/rate-plans/{plan}", {"name": "SMS A", "mode": "submitted"})
    assert closed.status_code in (302, 303)
    assert (await RatePlan.select(RatePlan.selectable).where(RatePlan.id == plan).first())["selectable"] is False
    with pytest.raises(NotFound):  # closed again: the client cannot pick it
        await purchase.select_plan(await actor_of(world.a.end_user_admin), plan)
