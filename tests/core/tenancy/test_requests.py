"""The one request chain (TEN-5) for any kind: up a tree of any depth, one decision at a time, every one audited."""

from __future__ import annotations

import asyncio

import pytest

from core.accounts.services import load_actor
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.tenancy import requests as chain
from core.tenancy.schemas import PartnerCreate, RequestDecision, RequestView
from core.tenancy.services import create_partner
from core.tenancy.tables import AuditEntry, PartnerRequest
from tests.factories import add_user, make_world, post_form, sign_in

effects: list[tuple[str, int]] = []  # what the probe kind's callbacks saw


async def _confirmed(view: RequestView) -> None:
    effects.append(("confirmed", view.id))


async def _dropped(view: RequestView) -> None:
    effects.append((view.status, view.id))


@pytest.fixture
def probe_kind():
    """A kind of our own: the chain must work for any kind a domain registers, not for sender IDs alone."""
    effects.clear()
    chain.register_kind(chain.RequestKind(name="probe", label="Probe", on_confirmed=_confirmed, on_dropped=_dropped))
    yield
    chain._kinds.pop("probe", None)


async def deep_chain():
    """owner → Reseller A → Sub-reseller → Deep Shop, with an admin at every level."""
    world = await make_world()
    reseller = await load_actor(await add_user(world.a.reseller_id, "boss@a.test"), 0, check_portal=False)
    assert reseller
    portal = world.a.portal_id
    sub = await create_partner(reseller, PartnerCreate(name="Sub-reseller", kind="reseller", portal_id=portal))
    sub_actor = await load_actor(await add_user(sub.id, "sub@a.test"), 0, check_portal=False)
    shop = await create_partner(
        reseller, PartnerCreate(name="Deep Shop", kind="end_user", parent_id=sub.id, portal_id=portal)
    )
    shop_actor = await load_actor(await add_user(shop.id, "shop@a.test"), 0, check_portal=False)
    assert sub_actor and shop_actor
    return world, reseller, sub_actor, shop_actor


async def ask(actor) -> int:
    return await chain.create_request(actor, kind="probe", subject="probe thing", payload={"n": 1})


async def test_a_request_climbs_every_level_and_only_its_holder_decides(app, probe_kind):
    world, reseller, sub, shop = await deep_chain()
    request_id = await ask(shop)
    assert (await chain.get_request(sub, request_id)).holder_id == sub.partner_id
    # Partners above see it before it reaches them, but cannot decide it yet.
    assert [r.id for r in (await chain.list_inbox(reseller)).items] == [request_id]
    assert (await chain.list_inbox(reseller, held_only=True)).items == []
    with pytest.raises(Conflict, match="waits for Sub-reseller"):
        await chain.decide(None, world.owner, request_id, RequestDecision(action="confirm"))
    with pytest.raises(Forbidden):
        await chain.decide(None, sub, request_id, RequestDecision(action="confirm"))
    await chain.decide(None, sub, request_id, RequestDecision(action="pass_up"))
    await chain.decide(None, reseller, request_id, RequestDecision(action="pass_up"))
    with pytest.raises(Conflict, match="no one to pass"):
        await chain.decide(None, world.owner, request_id, RequestDecision(action="pass_up"))
    view = await chain.decide(None, world.owner, request_id, RequestDecision(action="confirm"))
    assert view.status == "confirmed" and effects == [("confirmed", request_id)]
    # The requester sees its own request; its own inbox does not hold it, and a decision from it is a 404.
    assert (await chain.list_own(shop))[0].status == "confirmed"
    with pytest.raises(NotFound):
        await chain.decide(None, shop, request_id, RequestDecision(action="decline", reason="x"))
    audit = await AuditEntry.select(AuditEntry.action, AuditEntry.user_email).where(AuditEntry.object_type == "request")
    assert [(a["action"], a["user_email"]) for a in audit] == [
        ("request.create", "shop@a.test"),
        ("request.pass_up", "sub@a.test"),
        ("request.pass_up", "boss@a.test"),
        ("request.confirm", "owner@main.test"),
    ]


async def test_two_decisions_at_once_leave_one_winner(app, probe_kind):
    _world, _reseller, sub, shop = await deep_chain()
    request_id = await ask(shop)
    results = await asyncio.gather(
        chain.decide(None, sub, request_id, RequestDecision(action="pass_up")),
        chain.decide(None, sub, request_id, RequestDecision(action="decline", reason="No")),
        return_exceptions=True,
    )
    assert sum(isinstance(r, RequestView) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    row = await PartnerRequest.select(PartnerRequest.status).where(PartnerRequest.id == request_id).first()
    assert row["status"] in ("in_progress", "declined")
    assert len(effects) == (1 if row["status"] == "declined" else 0)
    assert await AuditEntry.count().where(AuditEntry.action.is_in(["request.pass_up", "request.decline"])) == 1


async def test_a_decline_needs_a_reason_and_a_cancel_is_final(app, probe_kind):
    world, _reseller, sub, shop = await deep_chain()
    request_id = await ask(shop)
    with pytest.raises(InvalidInput) as missing:
        await chain.decide(None, sub, request_id, RequestDecision(action="decline", reason=" "))
    assert missing.value.field == "reason"
    assert (await chain.get_request(shop, request_id)).status == "new"
    await chain.cancel(shop, request_id)
    assert effects == [("canceled", request_id)]
    with pytest.raises(Conflict, match="canceled"):
        await chain.decide(None, sub, request_id, RequestDecision(action="pass_up"))
    with pytest.raises(NotFound):
        await chain.cancel(sub, request_id)  # only the requester cancels
    with pytest.raises(Forbidden):
        await ask(world.owner)  # the root has no parent to ask


async def test_the_inbox_page_filters_and_decides(client_for, probe_kind):
    world, _reseller, sub, shop = await deep_chain()
    first, second = await ask(shop), await ask(shop)
    await chain.cancel(shop, second)
    client = client_for(world.a.host)
    await sign_in(client, "sub@a.test")
    assert "Requests waiting for your decision: 1" in (await client.get("/admin")).text
    open_only = await client.get("/admin/requests")
    assert f"/admin/requests/{first}" in open_only.text and f"/admin/requests/{second}" not in open_only.text
    canceled = await client.get("/admin/requests?status=canceled&kind=probe")
    assert f"/admin/requests/{second}" in canceled.text and f"/admin/requests/{first}" not in canceled.text
    detail = await client.get(f"/admin/requests/{first}")
    assert detail.status_code == 200 and 'value="pass_up"' in detail.text and 'value="confirm"' not in detail.text
    refused = await post_form(client, f"/admin/requests/{first}/decision", {"action": "decline", "reason": ""})
    assert refused.status_code == 422 and "reason" in refused.text.lower()
    passed = await post_form(client, f"/admin/requests/{first}/decision", {"action": "pass_up"})
    assert passed.status_code in (302, 303)
    assert (await chain.get_request(sub, first)).status == "in_progress"
    assert 'data-testid="waiting-requests"' not in (await client.get("/admin")).text
    # End users have no Admin Panel: the inbox is a missing page for them.
    user = client_for(world.a.host)
    await sign_in(user, world.a.end_user_admin)
    assert (await user.get("/admin/requests")).status_code == 404
