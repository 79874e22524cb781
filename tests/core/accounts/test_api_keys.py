"""API keys (ACC-6, API-1): shown once, stored hashed, expiring, refreshable, scoped to their partner."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.accounts.api_keys import expiry, flush_usage
from core.accounts.tables import ApiKey
from tests.factories import api_token, make_world, post_form, sign_in


def shown_key(html: str) -> str:
    return re.search(r'value="(cpk_[\w-]+)"', html).group(1)


async def test_create_on_the_page_shows_the_key_once_and_stores_a_hash(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    assert "No API keys yet" in (await client.get("/api-keys")).text
    created = await post_form(
        client, "/api-keys", {"name": "Shop backend", "period": "7d", "callback_url": "https://shop.test/dlr"}
    )
    assert "shown only once" in created.text
    key = shown_key(created.text)
    row = await ApiKey.select().where(ApiKey.name == "Shop backend").first()
    assert key not in str(row) and row["prefix"] == key[:12] and row["callback_url"] == "https://shop.test/dlr"
    assert timedelta(days=6, hours=23) < row["expires_at"] - datetime.now(UTC) <= timedelta(days=7)
    listing = await client.get("/api-keys")
    assert key not in listing.text and key[:12] in listing.text and "Never used" in listing.text
    used = await client.get("/api/admin/partners", headers={"Authorization": f"Bearer {key}"})
    assert used.status_code == 200 and {p["name"] for p in used.json()["items"]} == {"Reseller A", "Company A"}
    assert "Never used" not in (await client.get("/api-keys")).text  # shown at once, from Redis
    assert (await ApiKey.select(ApiKey.last_used_at).where(ApiKey.id == row["id"]).first())["last_used_at"] is None
    assert await flush_usage(app.state.portal.redis) == 1  # the minute job writes it to the database
    assert (await ApiKey.select(ApiKey.last_used_at).where(ApiKey.id == row["id"]).first())["last_used_at"]


async def test_expired_refreshed_and_removed_keys(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    key = shown_key((await post_form(client, "/api-keys", {"name": "Nightly", "period": "1d"})).text)
    bearer = {"Authorization": f"Bearer {key}"}
    await ApiKey.update({ApiKey.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(ApiKey.name == "Nightly")
    expired = await client.get("/api/admin/partners", headers=bearer)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert "Expired" in (await client.get("/api-keys")).text
    key_id = (await ApiKey.select(ApiKey.id).where(ApiKey.name == "Nightly").first())["id"]
    await post_form(client, f"/api-keys/{key_id}/refresh")
    assert (await client.get("/api/admin/partners", headers=bearer)).status_code == 200
    removed = await post_form(client, f"/api-keys/{key_id}/delete")
    assert removed.headers["location"] == "/api-keys?done=removed"
    assert (await client.get("/api/admin/partners", headers=bearer)).status_code == 401


async def test_keys_belong_to_their_partner_and_portal(client_for):
    world = await make_world()
    b_key = {"Authorization": f"Bearer {world.b.api_key}"}
    # Another portal's host refuses it; its own host accepts it, for its own partner only.
    assert (await client_for(world.a.host).get("/api/admin/partners", headers=b_key)).status_code == 401
    own = await client_for(world.b.host).get("/api/admin/partners", headers=b_key)
    assert own.status_code == 404  # an end user's key has no Admin Panel
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get("/api-keys")
    assert "Key a" in page.text and "Key b" not in page.text
    assert (await post_form(client, f"/api-keys/{world.b.api_key_id}/delete")).status_code == 404
    assert await ApiKey.exists().where(ApiKey.id == world.b.api_key_id)


async def test_rest_api_manages_keys_only_with_a_sign_in_token(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    token = await api_token(client, world.a.end_user_admin)
    created = await client.post("/api/keys", headers=token, json={"name": "CRM", "period": "3m"})
    assert created.status_code == 201 and created.json()["key"].startswith("cpk_")
    view = created.json()["api_key"]
    assert view["status"] == "Active" and view["last_used_at"] is None and "key" not in view
    names = [k["name"] for k in (await client.get("/api/keys", headers=token)).json()]
    assert names == ["Key a", "CRM"]
    dup = await client.post("/api/keys", headers=token, json={"name": "CRM"})
    assert dup.status_code == 409 and dup.json()["field"] == "name"
    long = await client.post("/api/keys", headers=token, json={"name": "x" * 61})
    assert long.status_code == 400 and "name" in long.json()["detail"]
    bad_period = await client.post("/api/keys", headers=token, json={"name": "P", "period": "2w"})
    assert bad_period.status_code == 400 and "period" in bad_period.json()["detail"]
    with_key = {"Authorization": f"Bearer {created.json()['key']}"}
    refused = await client.get("/api/keys", headers=with_key)
    assert refused.status_code == 401 and "not an API key" in refused.json()["detail"]
    refreshed = await client.post(f"/api/keys/{view['id']}/refresh", headers=token)
    assert refreshed.status_code == 200
    assert (await client.delete(f"/api/keys/{view['id']}", headers=token)).status_code == 204
    assert (await client.delete(f"/api/keys/{view['id']}", headers=token)).status_code == 404


async def test_operators_cannot_reach_api_keys(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_operator)
    page = await client.get("/api-keys")
    assert page.status_code == 403 and "Operators cannot use this page" in page.text
    assert (await post_form(client, "/api-keys", {"name": "Sneaky"})).status_code == 403
    token = await api_token(client, world.a.end_user_operator)
    assert (await client.get("/api/keys", headers=token)).status_code == 403
    assert (await client.delete(f"/api/keys/{world.a.api_key_id}", headers=token)).status_code == 403
    assert not await ApiKey.exists().where(ApiKey.name == "Sneaky")


def test_expiry_periods_follow_the_calendar():
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert expiry("1d", start) == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert expiry("3m", start) == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert expiry("1y", datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2029, 2, 28, tzinfo=UTC)
    assert expiry("never", start) is None
