"""Vendor connections through the REST API: the owner's alone, checked against the channel plugin's settings."""

from __future__ import annotations

from tests.factories import api_token, make_world


async def test_owner_configures_connections_and_bad_settings_name_the_field(app, client_for):
    world = await make_world()
    client = client_for(world.owner_host)
    headers = await api_token(client, "owner@main.test")
    bad = await client.post(
        "/api/admin/vendor-connections/",
        json={"channel": "sms", "name": "Vendor A", "settings": {"port": 0}},
        headers=headers,
    )
    assert bad.status_code in (400, 422) and "port" in bad.text
    assert (await client.get("/api/admin/vendor-connections/", headers=headers)).json() == []
    made = await client.post(
        "/api/admin/vendor-connections/",
        json={"channel": "sms", "name": "Vendor A", "settings": {"host": "10.0.0.5", "port": 2775, "window": 32}},
        headers=headers,
    )
    assert made.status_code == 201
    body = made.json()
    assert body["settings"]["window"] == 32 and body["settings"]["throughput"] == 100  # defaults filled in
    again = await client.post(
        "/api/admin/vendor-connections/", json={"channel": "sms", "name": "Vendor A"}, headers=headers
    )
    assert again.status_code == 409
    reseller = client_for(world.a.host)
    theirs = await api_token(reseller, world.a.reseller_admin)
    assert (await reseller.get(f"/api/admin/vendor-connections/{body['id']}", headers=theirs)).status_code == 404
    assert (await reseller.get("/api/admin/vendor-connections/", headers=theirs)).status_code == 404
