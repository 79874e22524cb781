"""Sender ID validity (SID-2, SID-3): the owner sets the last day a sender ID may be used, the company sees the days
left and its request says "Period changed"; past that day the sender ID is refused everywhere and switched off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.senders.services import expire_senders
from core.senders.tables import Sender
from core.tenancy.tables import AuditEntry, PartnerRequest
from tests.core.dispatch.conftest import sms  # noqa: F401 — the SMS world fixture, for the send API
from tests.core.public_api.conftest import bearer
from tests.core.senders.test_sender_requests import ask, campaign, chain_world
from tests.factories import post_form, sign_in


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def confirmed_sender(client_for):
    """A sender ID asked for by the end user, passed up by its reseller and confirmed by the owner."""
    world, (user, uh), (reseller, rh), (owner, oh) = await chain_world(client_for)
    request = (await ask(user, uh)).json()
    await reseller.post(f"/api/admin/requests/{request['id']}/decision", headers=rh, json={"action": "pass_up"})
    done = await owner.post(f"/api/admin/requests/{request['id']}/decision", headers=oh, json={"action": "confirm"})
    assert done.status_code == 200, done.text
    return world, (user, uh), (owner, oh), request["id"], request["payload"]["sender_id"]


async def request_status(request_id: int) -> str:
    return (await PartnerRequest.select(PartnerRequest.status).where(PartnerRequest.id == request_id).first())["status"]


async def test_the_owner_sets_the_validity_the_company_sees_days_left_and_its_request_says_period_changed(client_for):
    world, (user, uh), (owner, oh), request_id, sender_id = await confirmed_sender(client_for)
    changed = await owner.patch(f"/api/admin/senders/{sender_id}", headers=oh, json={"valid_until": day(10)})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["valid_until"], changed.json()["days_left"], changed.json()["status"]) == (
        day(10),
        10,
        "enabled",
    )
    assert await request_status(request_id) == "period"
    audit = await AuditEntry.select().where(AuditEntry.action == "sender.update").order_by(AuditEntry.id)
    assert "valid until" in audit[-1]["summary"]
    await sign_in(user, world.a.end_user_admin)
    page = (await user.get("/senders")).text
    assert "10 days left" in page and "Period changed" in page
    assert "ShopNow" not in (await user.get("/senders?channel=viber")).text  # the channel filter
    listed = (await user.get("/api/senders/all", headers=uh)).json()
    assert [s["days_left"] for s in listed if s["id"] == sender_id] == [10]

    # Bad input names its field and changes nothing.
    for body, field, status in (({}, "status", 422), ({"valid_until": "someday"}, "valid_until", 400)):
        refused = await owner.patch(f"/api/admin/senders/{sender_id}", headers=oh, json=body)
        assert refused.status_code == status and refused.json()["field"] == field, refused.text
    # The owner's page sets and clears it; no end again.
    await sign_in(owner, "owner@main.test")
    cleared = await post_form(owner, f"/admin/senders/{sender_id}/validity", {"valid_until": ""})
    assert cleared.status_code in (302, 303) and cleared.headers["location"].endswith("?saved=senders")
    row = await Sender.select(Sender.valid_until).where(Sender.id == sender_id).first()
    assert row["valid_until"] is None
    # A reseller sees the date but cannot set it.
    assert (await post_form(user, f"/admin/senders/{sender_id}/validity", {"valid_until": day(3)})).status_code in (
        403,
        404,
    )


async def test_an_expired_sender_id_is_refused_everywhere_and_the_job_switches_it_off(client_for):
    world, (user, uh), (owner, oh), request_id, sender_id = await confirmed_sender(client_for)
    assert (await owner.patch(f"/api/admin/senders/{sender_id}", headers=oh, json={"valid_until": day(0)})).json()[
        "days_left"
    ] == 0
    assert (await user.post("/api/campaigns", json=campaign(sender_id), headers=uh)).status_code == 201  # last day
    await Sender.update({Sender.valid_until: datetime.now(UTC).date() - timedelta(days=1)}).where(
        Sender.id == sender_id
    )
    refused = await user.post("/api/campaigns", json=campaign(sender_id), headers=uh)
    assert refused.status_code == 422 and refused.json()["field"] == "sender_id"
    await sign_in(user, world.a.end_user_admin)
    assert "ShopNow" not in (await user.get("/campaigns/new")).text
    assert "Expired" in (await user.get("/senders")).text

    assert await expire_senders() == 1
    assert (await Sender.select(Sender.status).where(Sender.id == sender_id).first())["status"] == "disabled"
    assert await request_status(request_id) == "unsubscribed"
    assert await expire_senders() == 0


async def test_unsubscribing_makes_the_confirmed_request_unsubscribed(client_for):
    world, (user, uh), _, request_id, sender_id = await confirmed_sender(client_for)
    done = await user.post(f"/api/senders/{sender_id}/unsubscribe", headers=uh)
    assert done.status_code in (200, 201), done.text
    assert await request_status(request_id) == "unsubscribed"
    await sign_in(user, world.a.end_user_admin)
    assert "Unsubscribed" in (await user.get("/senders")).text


async def test_the_send_api_refuses_an_expired_sender_id(client_for, sms):  # noqa: F811 — the fixture
    await Sender.update({Sender.valid_until: datetime.now(UTC).date() - timedelta(days=1)}).where(
        Sender.id == sms.tenant.sender_id
    )
    reply = await client_for(sms.tenant.host).post(
        "/api/send_sms",
        json={"channels": ["SMS"], "from": "BrandA", "to": "34612345001", "message": "Hi"},
        headers=bearer(sms.tenant.api_key),
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["results"] == ["34612345001:For message: can't validate sender BrandA"]
