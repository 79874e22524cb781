"""Template premoderation (TPL-2, TEN-3): a saved template waits for its request; only approved ones make
campaigns; a change to what it sends asks again; a declined one shows why."""

from __future__ import annotations

from typing import Any

from core.message_templates.tables import MessageTemplate
from core.tenancy.tables import Partner, PartnerRequest
from tests.factories import api_token, make_world, sign_in


async def premoderate(partner_id: int) -> None:
    await Partner.update({Partner.options: {"premoderate_templates": True}}).where(Partner.id == partner_id)


async def decide(client, headers: dict, request_id: int, action: str, reason: str = "") -> None:
    answer = await client.post(
        f"/api/admin/requests/{request_id}/decision", headers=headers, json={"action": action, "reason": reason}
    )
    assert answer.status_code == 200, answer.text


async def open_request(template_id: int) -> dict[str, Any]:
    """The template's latest request, which must be waiting in an inbox."""
    row = await MessageTemplate.select(MessageTemplate.request_id).where(MessageTemplate.id == template_id).first()
    request = await PartnerRequest.select().where(PartnerRequest.id == row["request_id"]).first()
    assert request["kind"] == "template" and request["status"] in ("new", "in_progress"), request
    return request


async def test_a_premoderated_template_waits_is_approved_and_asks_again_when_its_text_changes(app, client_for):
    world = await make_world()
    user, reseller, owner = client_for(world.a.host), client_for(world.a.host), client_for(world.owner_host)
    uh = await api_token(user, world.a.end_user_admin)
    rh = await api_token(reseller, world.a.reseller_admin)
    oh = await api_token(owner, "owner@main.test")
    await premoderate(world.a.end_user_id)
    body = {"name": "Welcome", "sender_id": world.a.sender_id, "text": "Hi {first_name}"}
    created = await user.post("/api/templates", json=body, headers=uh)
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["status"] == "waiting"
    # Not approved: no campaign from it, and the wizard does not offer it.
    refused = await user.post(
        "/api/campaigns",
        json={"sender_id": world.a.sender_id, "text": "Hi", "numbers": ["34612345001"], "template_id": template["id"]},
        headers=uh,
    )
    assert refused.status_code == 422 and refused.json()["field"] == "template_id"
    assert (await user.get("/api/templates?status=approved", headers=uh)).json()["total"] == 0
    await sign_in(user, world.a.end_user_admin)
    tiles = (await user.get("/templates")).text
    assert (
        f'data-testid="status-{template["id"]}"' in tiles and f"/campaigns/new?template={template['id']}" not in tiles
    )
    # Up the chain: the reseller passes it up, the owner confirms.
    request = await open_request(template["id"])
    await decide(reseller, rh, request["id"], "pass_up")
    await decide(owner, oh, request["id"], "confirm")
    approved = (await user.get(f"/api/templates/{template['id']}", headers=uh)).json()
    assert approved["status"] == "approved"
    assert f"/campaigns/new?template={template['id']}" in (await user.get("/templates")).text
    # A new name alone changes nothing; a new text asks again, and the reseller declines it.
    renamed = await user.patch(f"/api/templates/{template['id']}", json={"name": "Hello"}, headers=uh)
    assert renamed.json()["status"] == "approved"
    changed = await user.patch(f"/api/templates/{template['id']}", json={"text": "WIN A PRIZE"}, headers=uh)
    assert changed.json()["status"] == "waiting"
    again = await open_request(template["id"])
    assert again["id"] != request["id"] and again["subject"] == "Template Hello"
    await decide(reseller, rh, again["id"], "decline", "Sounds like spam")
    declined = (await user.get(f"/api/templates/{template['id']}", headers=uh)).json()
    assert (declined["status"], declined["status_reason"]) == ("declined", "Declined: Sounds like spam")
    # Edited once more while a request is open, the open one is withdrawn: one request waits, never two.
    await user.patch(f"/api/templates/{template['id']}", json={"text": "Hello {first_name}"}, headers=uh)
    third = await open_request(template["id"])
    await user.patch(f"/api/templates/{template['id']}", json={"text": "Hello {first_name}!"}, headers=uh)
    fourth = await open_request(template["id"])
    withdrawn = await PartnerRequest.select(PartnerRequest.status).where(PartnerRequest.id == third["id"]).first()
    assert fourth["id"] != third["id"] and withdrawn["status"] == "canceled"
    # Deleting the template withdraws its request too.
    assert (await user.delete(f"/api/templates/{template['id']}", headers=uh)).status_code == 204
    gone = await PartnerRequest.select(PartnerRequest.status).where(PartnerRequest.id == fourth["id"]).first()
    assert gone["status"] == "canceled"
