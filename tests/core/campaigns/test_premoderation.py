"""Campaign premoderation (TEN-3, CMP-1): a campaign waits as Waiting for its request to travel up the chain;
confirmed it is sent, declined it is canceled with the reason, withdrawn with its campaign."""

from __future__ import annotations

from typing import Any

from core.campaigns.tables import Campaign
from core.dispatch.tables import Edr
from core.tenancy.tables import Partner, PartnerRequest
from tests.core.dispatch.conftest import SmsWorld, wait_for_status
from tests.factories import api_token, post_form, sign_in

NUMBERS = ["34612345001", "34612345002"]


async def premoderate(partner_id: int, on: bool = True) -> None:
    await Partner.update({Partner.options: {"premoderate_campaigns": on}}).where(Partner.id == partner_id)


async def tokens(client_for, sms: SmsWorld) -> tuple[Any, dict, Any, dict, Any, dict]:
    world = sms.world
    user, reseller, owner = client_for(world.a.host), client_for(world.a.host), client_for(world.owner_host)
    return (
        user,
        await api_token(user, world.a.end_user_admin),
        reseller,
        await api_token(reseller, world.a.reseller_admin),
        owner,
        await api_token(owner, "owner@main.test"),
    )


def body(name: str) -> dict[str, Any]:
    return {"name": name, "sender_id": 0, "text": "Spring sale", "numbers": NUMBERS}


async def create(client, headers: dict, sms: SmsWorld, name: str) -> dict[str, Any]:
    created = await client.post(
        "/api/campaigns", json={**body(name), "sender_id": sms.tenant.sender_id}, headers=headers
    )
    assert created.status_code == 201, created.text
    return created.json()


async def decide(client, headers: dict, request_id: int, action: str, reason: str = "") -> dict[str, Any]:
    answer = await client.post(
        f"/api/admin/requests/{request_id}/decision", headers=headers, json={"action": action, "reason": reason}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_premoderated_campaign_waits_and_is_sent_once_the_owner_confirms(app, client_for, sms):
    user, uh, reseller, rh, owner, oh = await tokens(client_for, sms)
    await premoderate(sms.tenant.end_user_id)
    campaign = await create(user, uh, sms, "Spring")
    assert campaign["status"] == "waiting"
    row = await Campaign.select().where(Campaign.id == campaign["id"]).first()
    assert row["status_reason"] == "Waiting for your provider's approval" and row["request_id"] is not None
    assert await Edr.count().where(Edr.campaign == campaign["id"]) == 0  # nothing prepared, nothing sent
    inbox = (await reseller.get("/api/admin/requests?status=open&kind=campaign", headers=rh)).json()["items"]
    assert [(r["id"], r["subject"]) for r in inbox] == [(row["request_id"], "Campaign Spring")]
    assert inbox[0]["payload"]["text"] == "Spring sale" and inbox[0]["payload"]["numbers"] == 2
    # The reseller reads it on the inbox page, then passes it up; the owner confirms.
    await sign_in(reseller, sms.world.a.reseller_admin)
    page = await reseller.get(f"/admin/requests/{row['request_id']}")
    assert page.status_code == 200 and "Spring sale" in page.text and "2 numbers" in page.text
    await decide(reseller, rh, row["request_id"], "pass_up")
    still = await Campaign.select(Campaign.status).where(Campaign.id == campaign["id"]).first()
    assert still["status"] == "waiting"  # a reseller passing it up does not release it
    await decide(owner, oh, row["request_id"], "confirm")
    done = await wait_for_status(campaign["id"], {"completed", "failed"})
    assert done["status"] == "completed" and done["sent"] == 2
    assert await Edr.count().where((Edr.campaign == campaign["id"]) & (Edr.status == "DELIVERED")) == 2


async def test_a_declined_campaign_is_canceled_with_the_reason_and_a_withdrawn_one_leaves_no_request(
    app, client_for, sms
):
    user, uh, reseller, rh, _, _ = await tokens(client_for, sms)
    await premoderate(sms.tenant.end_user_id)
    declined = await create(user, uh, sms, "Loud")
    request_id = (await Campaign.select(Campaign.request_id).where(Campaign.id == declined["id"]).first())["request_id"]
    await decide(reseller, rh, request_id, "decline", "Too many capital letters")
    seen = (await user.get(f"/api/campaigns/{declined['id']}", headers=uh)).json()
    assert seen["status"] == "canceled" and seen["status_reason"] == "Declined: Too many capital letters"
    await sign_in(user, sms.world.a.end_user_admin)
    assert "Too many capital letters" in (await user.get(f"/campaigns/{declined['id']}")).text
    # The user cancels a waiting campaign: its request is withdrawn, so nobody above can confirm it any more.
    withdrawn = await create(user, uh, sms, "Second thoughts")
    canceled = await post_form(user, f"/campaigns/{withdrawn['id']}/action", {"action": "cancel"})
    assert canceled.status_code in (302, 303), canceled.text
    row = await Campaign.select().where(Campaign.id == withdrawn["id"]).first()
    assert row["status"] == "canceled"
    request = await PartnerRequest.select().where(PartnerRequest.id == row["request_id"]).first()
    assert request["status"] == "canceled"
    late = await reseller.post(
        f"/api/admin/requests/{row['request_id']}/decision", headers=rh, json={"action": "pass_up"}
    )
    assert late.status_code == 409
    assert await Edr.count().where(Edr.campaign.is_in([declined["id"], withdrawn["id"]])) == 0


async def test_the_wizard_asks_for_a_request_only_where_premoderation_is_on(app, client_for, sms):
    user = client_for(sms.world.a.host)
    await sign_in(user, sms.world.a.end_user_admin)
    wizard = {
        "step": "3",
        "goto": "3",
        "channel": "sms",
        "sender_id": str(sms.tenant.sender_id),
        "text": "Hi",
        "mode": "groups",
        "group_ids": str(sms.tenant.group_id),
    }
    plain = await post_form(user, "/campaigns/new", wizard)
    assert plain.status_code == 200, plain.text[-500:]
    assert "Send now" in plain.text and "Send request" not in plain.text
    await premoderate(sms.tenant.end_user_id)
    moderated = await post_form(user, "/campaigns/new", wizard)
    assert 'data-testid="premoderated"' in moderated.text and "Send request" in moderated.text
