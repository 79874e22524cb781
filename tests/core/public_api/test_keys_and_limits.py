"""/api/send_sms beyond the guide (API-4) and its keys: 401s, dry runs, idempotent retries, 429, other tenants."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.accounts.tables import ApiKey
from core.public_api import idempotency, throttle
from core.public_api.tables import ApiRequest
from tests.core.dispatch.conftest import ES_ALL, ES_VODAFONE
from tests.core.public_api.conftest import FUNDS, api_edrs, balance, bearer, fund, wait_for_edrs
from tests.factories import api_token

BODY = {"channels": "SMS", "from": "BrandA", "to": "34612345001,34607123456", "message": "Hello"}


async def test_missing_wrong_expired_and_removed_keys_are_401(client_for, sms):
    client = client_for(sms.tenant.host)
    assert (await client.post("/api/send_sms", json=BODY)).status_code == 401
    assert (await client.post("/api/send_sms", json=BODY, headers=bearer("cpk_not-a-key"))).status_code == 401
    token = await api_token(client, sms.tenant.end_user_admin)
    with_token = await client.post("/api/send_sms", json=BODY, headers=token)
    assert with_token.status_code == 401 and "API key" in with_token.json()["detail"]
    await ApiKey.update({ApiKey.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        ApiKey.id == sms.tenant.api_key_id
    )
    expired = await client.post("/api/send_sms", json=BODY, headers=bearer(sms.tenant.api_key))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    await ApiKey.delete().where(ApiKey.id == sms.tenant.api_key_id)
    removed = await client.get("/api/send_sms", params=BODY, headers=bearer(sms.tenant.api_key))
    assert removed.status_code == 401
    assert await api_edrs() == [] and await balance(sms.tenant.end_user_id) == FUNDS


async def test_dry_run_prices_without_sending(client_for, sms):
    client = client_for(sms.tenant.host)
    body = [BODY, {**BODY, "to": "4915123456789"}]
    reply = await client.post("/api/send_sms?dryRun=true", json=body, headers=bearer(sms.tenant.api_key))
    assert reply.status_code == 200, reply.text
    out = reply.json()
    assert out["dryRun"] is True and out["messages"] == 2 and out["currency"] == "EUR"
    assert out["price"] == "0.09"  # 0.05 (Spain, All networks) + 0.04 (Vodafone)
    assert out["results"] == [
        "34612345001:OK 0.05 EUR",
        "34607123456:OK 0.04 EUR",
        "4915123456789:No rate for destination",
    ]
    in_body = await client.post("/api/send_sms", json={**BODY, "dryRun": True}, headers=bearer(sms.tenant.api_key))
    assert in_body.json()["dryRun"] is True
    assert await api_edrs() == [] and await ApiRequest.count() == 0 and await balance(sms.tenant.end_user_id) == FUNDS


async def test_idempotent_retries_send_once_even_at_the_same_moment(client_for, sms):
    client = client_for(sms.tenant.host)
    headers = {**bearer(sms.tenant.api_key), "Idempotency-Key": "order-42"}
    first, second = await asyncio.gather(
        client.post("/api/send_sms", json=BODY, headers=headers),
        client.post("/api/send_sms", json=BODY, headers=headers),
    )
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    later = await client.post("/api/send_sms", json=BODY, headers=headers)
    assert later.json() == first.json() and later.headers["Idempotent-Replay"] == "true"
    other = await client.post("/api/send_sms", json={**BODY, "message": "Changed"}, headers=headers)
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    await wait_for_edrs({"DELIVERED"}, 2)
    assert len(await api_edrs()) == 2 and await ApiRequest.count() == 1
    assert sms.smsc.submitted == {"34612345001": 1, "34607123456": 1}
    assert await balance(sms.tenant.end_user_id) == FUNDS - ES_ALL - ES_VODAFONE
    fresh = await client.post("/api/send_sms", json=BODY, headers={**headers, "Idempotency-Key": "order-43"})
    assert fresh.json() != first.json() and await ApiRequest.count() == 2


async def test_rate_limit_answers_429_with_retry_after(client_for, sms, monkeypatch):
    monkeypatch.setattr(throttle, "RATE_PER_S", 0.2)
    monkeypatch.setattr(throttle, "BURST", 2)
    client = client_for(sms.tenant.host)
    dry = {**BODY, "dryRun": True}
    codes = [(await client.post("/api/send_sms", json=dry, headers=bearer(sms.tenant.api_key))) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert 1 <= int(codes[2].headers["Retry-After"]) <= 5
    assert "Too many requests" in codes[2].json()["detail"]
    # The bucket is the key's, not the company's: tenant B is not slowed by A.
    b = client_for(sms.world.b.host)
    other = await b.post("/api/send_sms", json={**dry, "from": "BrandB"}, headers=bearer(sms.world.b.api_key))
    assert other.status_code == 200


async def test_a_key_never_sends_as_another_partner(client_for, sms):
    b = sms.world.b
    await fund(b.end_user_id, FUNDS)
    # B's key on A's portal is refused; on its own portal it cannot use A's sender ID.
    on_a = await client_for(sms.tenant.host).post("/api/send_sms", json=BODY, headers=bearer(b.api_key))
    assert on_a.status_code == 401
    reply = await client_for(b.host).post("/api/send_sms", json=BODY, headers=bearer(b.api_key))
    assert all(r.endswith(":For message: can't validate sender BrandA") for r in reply.json()["results"])
    own = await client_for(b.host).post(
        "/api/send_sms", json={**BODY, "from": "BrandB", "to": "34612345001"}, headers=bearer(b.api_key)
    )
    assert own.status_code == 200
    rows = await api_edrs()
    assert [(r["partner"], r["api_key"]) for r in rows] == [(b.end_user_id, b.api_key_id)]
    assert await balance(sms.tenant.end_user_id) == FUNDS


async def test_a_request_that_outlived_its_idempotency_lock_leaves_its_successors_lock_alone(app):
    redis = app.state.portal.redis
    lock = idempotency._name(7, "order-1") + ":lock"
    slow = idempotency.claim(redis, 7, "order-1", b"{}")
    await slow.__aenter__()
    await redis.delete(lock)  # the slow holder's lock lapsed (LOCK_S passed) ...
    async with idempotency.claim(redis, 7, "order-1", b"{}") as retry:  # ... and a retry took the key
        assert retry.replay is None
        await slow.__aexit__(None, None, None)
        # Had the slow one freed the retry's lock, a third copy arriving now would send as well.
        assert await redis.exists(lock)
