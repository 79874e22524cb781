"""GET /metrics: Prometheus text with HTTP and message metrics, for loopback clients or the metrics token only."""

from __future__ import annotations

import asyncio

import httpx
import msgspec

from core.app import create_app
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign
from tests.core.dispatch.conftest import SmsWorld, wait_for_status


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_loopback_scrape_shows_http_and_message_metrics(app, sms: SmsWorld, client_for):
    before = (await client_for("any.test").get("/metrics")).text
    assert (await client_for("any.test").get("/healthz")).status_code == 200
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", numbers=[f"34607{n:06d}" for n in range(5)])
    created = await create_campaign(app.state.portal, sms.actor, data)
    assert (await wait_for_status(created.id, {"completed", "failed", "paused"}))["status"] == "completed"

    response = await client_for("any.test").get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _sample(text, "portal_requests_total", path="/healthz", status_code="200") >= 1
    for status in ("SENT", "DELIVERED"):
        grew = _sample(text, "portal_messages_total", channel="sms", status=status)
        # At least: a campaign of an earlier test in this process may still be finishing.
        assert grew - _sample(before, "portal_messages_total", channel="sms", status=status) >= 5
    assert _sample(text, "portal_send_batch_seconds_count", channel="sms") >= 1
    assert 'portal_queue_depth{queue="portal-send"}' in text


async def test_other_clients_need_the_token(settings, migrated):
    app = create_app(msgspec.structs.replace(settings, metrics_token="s3cret"), run_worker=False, db_pool=False)
    ready, done = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            ready.set()
            await done.wait()

    task = asyncio.create_task(hold())
    await ready.wait()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://unknown.test") as client:
            assert (await client.get("/metrics")).status_code == 404
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer s3cre"})
            assert wrong.status_code == 404
            right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
            assert right.status_code == 200 and "portal_queue_depth" in right.text
    finally:
        done.set()
        await task
