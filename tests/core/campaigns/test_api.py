"""Campaigns REST API: create (201), list, one, actions with 409 reasons, delete, preview, costs; in the schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.senders.schemas import SenderCreate
from core.senders.services import create_sender
from tests.factories import api_token, make_world


async def api(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    return world, client, {"Authorization": f"Bearer {world.a.api_key}"}


def body(world, **changes):
    return {
        "name": "API sale",
        "sender_id": world.a.sender_id,
        "text": "Hello {first_name}",
        "numbers": ["612345678", "+34612345679"],
        "country_code": "34",
        "send_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        **changes,
    }


async def test_create_list_get_act_and_delete(client_for):
    world, client, headers = await api(client_for)
    created = await client.post("/api/campaigns", json=body(world), headers=headers)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "scheduled" and campaign["actions"] == ["cancel", "delete", "start"]
    assert campaign["currency"] == "EUR"  # known before the start fixes the price list
    listed = (await client.get("/api/campaigns?q=api", headers=headers)).json()
    assert [c["id"] for c in listed["items"]] == [campaign["id"]] and listed["total"] == 1
    one = await client.get(f"/api/campaigns/{campaign['id']}", headers=headers)
    assert one.json()["name"] == "API sale"
    refused = await client.post(f"/api/campaigns/{campaign['id']}/pause", headers=headers)
    assert refused.status_code == 409 and "cannot be paused" in refused.json()["detail"]
    canceled = await client.post(f"/api/campaigns/{campaign['id']}/cancel", headers=headers)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert (await client.post(f"/api/campaigns/{campaign['id']}/cancel", headers=headers)).status_code == 409
    assert (await client.get(f"/api/campaigns/{campaign['id']}/costs", headers=headers)).json() == []
    assert (await client.delete(f"/api/campaigns/{campaign['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/campaigns/{campaign['id']}", headers=headers)).status_code == 404


async def test_validation_errors_name_the_field(client_for):
    world, client, headers = await api(client_for)
    past = await client.post("/api/campaigns", json=body(world, send_at="2020-01-01T10:00:00+00:00"), headers=headers)
    assert past.status_code == 422 and "past" in past.json()["detail"]
    bad = await client.post("/api/campaigns", json=body(world, numbers=["12"]), headers=headers)
    assert bad.status_code == 422 and "Invalid number" in bad.json()["detail"]
    other_sender = await client.post("/api/campaigns", json=body(world, sender_id=world.b.sender_id), headers=headers)
    assert other_sender.status_code == 422
    unknown = await client.post("/api/campaigns/1/explode", headers=headers)
    assert unknown.status_code in (400, 404, 422)


async def test_preview_is_a_dry_run(client_for):
    world, client, headers = await api(client_for)
    preview = await client.post("/api/campaigns/preview", json=body(world), headers=headers)
    assert preview.status_code == 200, preview.text
    data = preview.json()
    assert data["recipients"] == 2 and data["parts_per_message"] == 1
    assert (await client.get("/api/campaigns", headers=headers)).json()["total"] == 0


async def test_preview_counts_each_stop_listed_number_once_for_groups_and_typed_numbers(client_for):
    world, client, headers = await api(client_for)
    other = await create_sender(world.owner, world.a.end_user_id, SenderCreate(channel="sms", name="ShopTwo"))
    others = (await client.post("/api/groups", json={"name": "Others"}, headers=headers)).json()["id"]
    group = world.a.group_id  # already holds +34612345007
    contacts = [
        ("+34612345101", group, {}),
        ("+34612345102", group, {"blocked_all": True}),
        ("+34612345103", group, {"blocked_senders": [world.a.sender_id]}),
        ("+34612345104", group, {"blocked_senders": [other.id]}),  # blocked for another sender ID only
        ("+34612345201", others, {"blocked_all": True}),
        ("+34612345202", others, {"blocked_senders": [other.id]}),
    ]
    for phone, in_group, blocks in contacts:
        created = await client.post(
            "/api/contacts", json={"phone": phone, "groups": [in_group], **blocks}, headers=headers
        )
        assert created.status_code == 201, created.text
    typed = ["+34612345102", "+34612345201", "+34612345202", "+34612345999"]  # a member, two outsiders, no contact
    preview = await client.post(
        "/api/campaigns/preview", json=body(world, numbers=typed, group_ids=[group]), headers=headers
    )
    assert preview.status_code == 200, preview.text
    data = preview.json()
    # Sent to: 007, 101, 104 of the group and the typed 202 and 999; stop-listed for BrandA: 102, 103 and 201.
    assert (data["recipients"], data["stop_listed"]) == (5, 3)
    assert sum(line["recipients"] for line in data["lines"]) == 5 and data["no_rate"] == 0
    everyone = await client.post(
        "/api/campaigns/preview", json=body(world, numbers=[], all_contacts=True), headers=headers
    )
    assert (everyone.json()["recipients"], everyone.json()["stop_listed"]) == (4, 3)  # company A's 7 contacts only
    for_other = body(world, numbers=typed, group_ids=[group], sender_id=other.id)
    data = (await client.post("/api/campaigns/preview", json=for_other, headers=headers)).json()
    assert (data["recipients"], data["stop_listed"]) == (4, 4)  # 007, 101, 103, 999 / 102, 104, 201, 202


async def test_session_token_works_and_the_schema_lists_the_routes(client_for):
    world, client, _headers = await api(client_for)
    headers = await api_token(client, world.a.end_user_admin)
    assert (await client.get("/api/campaigns", headers=headers)).status_code == 200
    assert (await client.get("/api/campaigns")).status_code == 401
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/campaigns", "/api/campaigns/preview", "/api/campaigns/{campaign_id}", "/api/edrs"):
        assert path in paths, sorted(paths)


async def test_preview_warns_when_the_cost_exceeds_the_balance_plus_credit(client_for):
    world, client, headers = await api(client_for)
    data = (await client.post("/api/campaigns/preview", json=body(world), headers=headers)).json()
    assert Decimal(data["total"]) > 0 and data["available"] == "0" and data["over_balance"] is True
    owner = await api_token(client_for(world.owner_host), "owner@main.test")
    await client_for(world.owner_host).patch(
        f"/api/admin/partners/{world.a.end_user_id}", headers=owner, json={"credit_limit": data["total"]}
    )
    covered = (await client.post("/api/campaigns/preview", json=body(world), headers=headers)).json()
    assert covered["available"] == data["total"] and covered["over_balance"] is False


async def test_quiet_hours_and_a_speed_limit_are_kept_and_a_wrong_window_is_refused(client_for):
    world, client, headers = await api(client_for)
    paced = body(world, window_from="09:00", window_until="21:30", max_per_second=50)
    created = await client.post("/api/campaigns", json=paced, headers=headers)
    assert created.status_code == 201, created.text
    one = (await client.get(f"/api/campaigns/{created.json()['id']}", headers=headers)).json()
    assert (one["window_from"], one["window_until"], one["max_per_second"]) == ("09:00", "21:30", 50)
    half = await client.post("/api/campaigns", json=body(world, window_from="09:00"), headers=headers)
    assert half.status_code == 422 and half.json()["field"] == "window_until"
    wrong = await client.post(
        "/api/campaigns", json=body(world, window_from="9 am", window_until="21:00"), headers=headers
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "window_from"
    slow = await client.post("/api/campaigns", json=body(world, max_per_second=0), headers=headers)
    assert slow.status_code in (400, 422) and "max_per_second" in slow.text
    assert (await client.get("/api/campaigns", headers=headers)).json()["total"] == 1


async def test_preview_counts_each_recipients_parts_with_their_own_values(client_for):
    world, client, headers = await api(client_for)
    group = (await client.post("/api/groups", json={"name": "Names"}, headers=headers)).json()["id"]
    for phone, name in (("+34612345301", "Svetlana"), ("+34612345302", "Светлана")):
        created = await client.post(
            "/api/contacts", json={"phone": phone, "first_name": name, "groups": [group]}, headers=headers
        )
        assert created.status_code == 201, created.text
    text = "Your order is ready for pickup at our shop on Main Street, dear {first_name}"  # 65 characters + name
    data = (
        await client.post(
            "/api/campaigns/preview", json=body(world, text=text, numbers=[], group_ids=[group]), headers=headers
        )
    ).json()
    # A Latin name keeps the message in one GSM-7 part; a Cyrillic one turns it to UCS-2 (70 a part): two parts.
    assert data["recipients"] == 2 and data["parts_per_message"] == 2
    assert sum(line["parts"] for line in data["lines"]) == 3
    assert Decimal(data["total"]) == sum(Decimal(line["rate"]) * line["parts"] for line in data["lines"])
