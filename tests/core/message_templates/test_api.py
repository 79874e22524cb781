"""Templates REST API: create (201), list with filters, one, change, delete with the in-use warning; bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.db import is_sqlite
from core.message_templates import services
from core.message_templates.tables import MessageTemplate
from core.senders.tables import Sender
from tests.core.contacts.helpers import actor_of
from tests.core.message_templates.helpers import allow_flash, template
from tests.factories import api_token, make_world


async def api(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    return world, client, {"Authorization": f"Bearer {world.a.api_key}"}


def body(world, **changes):
    return {"name": "Welcome", "sender_id": world.a.sender_id, "text": "Hi {first_name}, welcome!", **changes}


async def test_create_list_get_update_and_delete(client_for):
    world, client, headers = await api(client_for)
    await allow_flash(world.a.end_user_id)
    created = await client.post("/api/templates", json=body(world, flash=True), headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["channel"] == "sms" and template["sender"] == "BrandA" and template["sender_enabled"]
    assert template["flash"] is True and template["text"] == "Hi {first_name}, welcome!"
    assert template["length"] == len("Hi xxxxxxxxxx, welcome!") and template["parts"] == 1
    await client.post("/api/templates", json=body(world, name="Reminder", text="See you"), headers=headers)
    listed = (await client.get("/api/templates?q=welc&channel=sms", headers=headers)).json()
    assert [t["name"] for t in listed["items"]] == ["Welcome"] and listed["total"] == 1
    assert (await client.get("/api/templates?channel=viber", headers=headers)).json()["total"] == 0
    one = await client.get(f"/api/templates/{template['id']}", headers=headers)
    assert one.status_code == 200 and one.json()["name"] == "Welcome"
    changed = await client.patch(
        f"/api/templates/{template['id']}", json={"text": "x" * 161, "flash": False}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["parts"] == 2 and changed.json()["name"] == "Welcome" and changed.json()["flash"] is False
    assert (await client.delete(f"/api/templates/{template['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/templates/{template['id']}", headers=headers)).status_code == 404
    assert (await client.get("/api/templates", headers=headers)).json()["total"] == 1


async def test_bad_input_names_the_field_and_saves_nothing(client_for):
    world, client, headers = await api(client_for)
    cases = [
        (body(world, name="  "), 422, "name", "name"),
        (body(world, text=" "), 422, "text", "empty"),
        (body(world, text="Hi {nickname}"), 422, "text", "{nickname}"),
        (body(world, sender_id=world.b.sender_id), 422, "sender_id", "enabled sender"),
        (body(world, channel="whatsapp"), 422, "channel", "whatsapp"),
        (body(world, flash=True), 422, "flash", "flash messages"),
        ({"name": "No text", "sender_id": world.a.sender_id}, 400, None, "text"),
    ]
    for data, status, field, words in cases:
        response = await client.post("/api/templates", json=data, headers=headers)
        assert response.status_code == status, (data, response.text)
        answer = response.json()
        assert words in answer["detail"] or words in str(answer.get("extra", "")), answer
        if field:
            assert answer.get("field") == field, answer
    assert (await client.get("/api/templates", headers=headers)).json()["total"] == 0
    assert (await client.post("/api/templates", json=body(world), headers=headers)).status_code == 201
    again = await client.post("/api/templates", json=body(world, name="WELCOME"), headers=headers)
    assert again.status_code == 409 and again.json()["field"] == "name" and "already exists" in again.json()["detail"]


async def test_a_disabled_sender_is_refused(client_for):
    world, client, headers = await api(client_for)
    created = (await client.post("/api/templates", json=body(world), headers=headers)).json()
    await Sender.update({Sender.status: "disabled"}).where(Sender.id == world.a.sender_id)
    refused = await client.post("/api/templates", json=body(world, name="Other"), headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "sender_id"
    kept = await client.patch(f"/api/templates/{created['id']}", json={"name": "Renamed"}, headers=headers)
    assert kept.status_code == 422 and kept.json()["field"] == "sender_id"
    shown = (await client.get(f"/api/templates/{created['id']}", headers=headers)).json()
    assert shown["name"] == "Welcome" and shown["sender_enabled"] is False


async def test_delete_warns_about_scheduled_campaigns_and_the_campaign_fails_at_launch(app, client_for):
    world, client, headers = await api(client_for)
    template = (await client.post("/api/templates", json=body(world), headers=headers)).json()
    campaign = await client.post(
        "/api/campaigns",
        json={
            "name": "From template",
            "sender_id": world.a.sender_id,
            "text": template["text"],
            "template_id": template["id"],
            "numbers": ["+34612345678"],
            "send_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
        headers=headers,
    )
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["template_id"] == template["id"]
    warned = await client.delete(f"/api/templates/{template['id']}", headers=headers)
    assert warned.status_code == 409 and "From template" in warned.json()["detail"]
    assert (await client.get(f"/api/templates/{template['id']}", headers=headers)).status_code == 200
    assert (await client.delete(f"/api/templates/{template['id']}?force=true", headers=headers)).status_code == 204
    started = await client.post(f"/api/campaigns/{campaign.json()['id']}/start", headers=headers)
    assert started.status_code == 200
    assert started.json()["status"] == "failed" and started.json()["status_reason"] == "The template was deleted"
    gone = await client.post(
        "/api/campaigns",
        json={"sender_id": world.a.sender_id, "text": "Hi", "template_id": template["id"], "numbers": ["+34612345678"]},
        headers=headers,
    )
    assert gone.status_code == 422 and gone.json()["field"] == "template_id"


async def test_other_tenants_templates_are_404_and_the_routes_are_in_the_schema(app, client_for):
    world, client, headers = await api(client_for)
    actor_b = await actor_of(world.b)
    theirs = await template(app, actor_b, world.b.sender_id)
    for method in ("get", "delete"):
        assert (await getattr(client, method)(f"/api/templates/{theirs.id}", headers=headers)).status_code == 404
    patched = await client.patch(f"/api/templates/{theirs.id}", json={"name": "Hijacked"}, headers=headers)
    assert patched.status_code == 404
    used = await client.post(
        "/api/campaigns",
        json={"sender_id": world.a.sender_id, "text": "Hi", "template_id": theirs.id, "numbers": ["+34612345678"]},
        headers=headers,
    )
    assert used.status_code == 422 and used.json()["field"] == "template_id"
    schema = (await client.get("/schema/openapi.json")).json()
    assert {"/api/templates", "/api/templates/{template_id}"} <= set(schema["paths"])


async def test_the_same_name_created_twice_at_once_makes_one_template(app, client_for, monkeypatch):
    if not is_sqlite():
        # Both requests pass the name check before either inserts (SQLite's write lock serialises them instead).
        both_checked, check = asyncio.Barrier(2), services._name_taken

        async def racing(*args: object, **kwargs: object) -> None:
            await check(*args, **kwargs)
            await asyncio.wait_for(both_checked.wait(), 10)

        monkeypatch.setattr(services, "_name_taken", racing)
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    body = {"sender_id": world.a.sender_id, "text": "Hi"}
    answers = await asyncio.gather(
        *(client.post("/api/templates", headers=headers, json={**body, "name": name}) for name in ("Promo", "PROMO"))
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert "already exists" in refused["detail"] and "name" in str(refused)
    assert await MessageTemplate.count() == 1
