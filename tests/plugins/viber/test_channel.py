"""ViberChannel against the stand-in aggregator over loopback HTTP: what a campaign sender would notice."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from core import (
    InvalidInput,
    OutboundMessage,
    SendResult,
    TemporaryProviderError,
    Unauthenticated,
    VendorConnection,
    WebhookRequest,
)
from plugins.viber.provider import NO_CONNECTION, SIGNATURE_HEADER, ViberChannel, sign
from plugins.viber.simulator import StandInViber
from tests.plugins.viber.conftest import Recorder

FAST = {"backoff": (0.05, 0.2), "retry_for": 5.0}


@pytest.fixture(autouse=True)
async def clean_state() -> None:
    """Replaces the suite's autouse fixture: these tests touch no table."""


def connection(aggregator: StandInViber, id: int = 1, **overrides: object) -> VendorConnection:
    return VendorConnection(
        id=id, channel="viber", name=f"viber-{id}", settings=aggregator.connection_settings() | overrides
    )


def messages(n: int, start: int = 0, **extra: str) -> list[OutboundMessage]:
    return [
        OutboundMessage(
            edr_id=start + i, sender="ShopCo", destination=f"+3460700{start + i:04d}", text="Sale!", extra=extra
        )
        for i in range(n)
    ]


async def started(*connections: VendorConnection, redis: object = None, **options: object) -> ViberChannel:
    channel = ViberChannel(client_options=FAST | options)
    await channel.start(Recorder(list(connections), redis))  # type: ignore[arg-type]
    return channel


async def test_text_goes_as_a_transaction_and_an_image_or_button_as_a_promotion(aggregator):
    channel = await started(connection(aggregator, id=7))
    try:
        plain = await channel.send_batch(messages(1))
        rich = await channel.send_batch(
            messages(
                1, start=1, image_url="https://cdn.example/x.jpg", button_caption="Shop", button_url="https://x.es"
            )
        )
        button_only = await channel.send_batch(messages(1, start=2, button_caption="Shop", button_url="https://x.es"))
        short_ttl = await channel.send_batch(messages(1, start=3, ttl="120"))
    finally:
        await channel.stop()
    assert all(r.accepted and r.vendor_message_id and r.connection == 7 for r in plain + rich + button_only + short_ttl)
    first, second, third, fourth = aggregator.last_requests
    assert (first.destination_addr, first.message_type, first.source_type, first.validity_period) == (
        "34607000000",
        106,
        2,
        3600,
    )
    assert first.image == first.button_caption == ""
    assert (second.message_type, second.source_type, second.image, second.button_caption, second.button_action) == (
        108,
        1,
        "https://cdn.example/x.jpg",
        "Shop",
        "https://x.es",
    )
    assert (third.message_type, third.source_type) == (108, 1)
    assert fourth.validity_period == 120


async def test_a_batch_is_sent_once_each_within_the_window_and_results_keep_their_order(aggregator):
    channel = await started(connection(aggregator))
    try:
        results = await channel.send_batch(messages(300))
    finally:
        await channel.stop()
    assert [r.edr_id for r in results] == list(range(300))
    assert all(r.accepted for r in results) and len({r.vendor_message_id for r in results}) == 300
    assert len(aggregator.submitted) == 300 and set(aggregator.submitted.values()) == {1}


async def test_throttling_and_server_errors_are_retried_until_sent_once(aggregator):
    aggregator.fail_next.extend([429, 503, 502])
    aggregator.throttle_rate = 50  # per second; the batch is three times that
    channel = await started(connection(aggregator))
    try:
        results = await channel.send_batch(messages(150))
    finally:
        await channel.stop()
    assert all(r.accepted for r in results), [r.error for r in results if not r.accepted]
    assert aggregator.throttled > 1
    assert len(aggregator.submitted) == 150 and set(aggregator.submitted.values()) == {1}


async def test_the_per_second_limit_of_the_connection_is_kept(aggregator):
    channel = await started(connection(aggregator, throughput=100))
    try:
        began = time.monotonic()
        results = await channel.send_batch(messages(250))
        took = time.monotonic() - began
    finally:
        await channel.stop()
    assert all(r.accepted for r in results)
    assert took >= 1.4  # 100 at once, then 100 a second: never faster than the vendor allows


async def test_two_workers_share_the_connections_per_second_limit_through_redis(aggregator, redis_url):
    redis = Redis.from_url(redis_url)
    await redis.delete("viber:bucket:5")
    workers = [await started(connection(aggregator, id=5, throughput=100), redis=redis) for _ in range(2)]
    try:
        began = time.monotonic()
        results = await asyncio.gather(*(w.send_batch(messages(100, start=100 * n)) for n, w in enumerate(workers)))
        took = time.monotonic() - began
    finally:
        for worker in workers:
            await worker.stop()
        await redis.aclose()
    assert all(r.accepted for part in results for r in part) and len(aggregator.submitted) == 200
    assert took >= 0.9  # 100 at once, then 100 a second for both together; alone each would burst its 100


async def test_a_vendor_that_keeps_refusing_fails_the_message_with_the_reason_after_retrying(aggregator):
    aggregator.fail_next.extend([503] * 100)
    channel = await started(connection(aggregator), retry_for=0.5)
    try:
        [result] = await channel.send_batch(messages(1))
    finally:
        await channel.stop()
    assert not result.accepted and not result.unknown and "kept refusing: HTTP 503" in result.error
    assert len(aggregator.fail_next) < 98  # tried several times, not failed at once


async def test_an_aggregator_out_of_reach_holds_the_batch_and_nothing_is_failed():
    down = StandInViber()
    await down.start("127.0.0.1", 0)
    settings = connection(down)  # a port nothing listens on once it stops
    await down.stop()
    channel = await started(settings)
    recorded: list[SendResult] = []

    class Progress:
        async def leaving(self, edr_ids):
            pass

        def answered(self, result):
            recorded.append(result)

    try:
        began = time.monotonic()
        with pytest.raises(TemporaryProviderError, match="cannot be reached"):
            await channel.send_batch(messages(30), Progress())
        assert time.monotonic() - began < 2  # no retrying for minutes: the core keeps the batch for later
    finally:
        await channel.stop()
    assert not recorded  # nothing answered, so nothing is taken as sent or failed


async def test_a_refused_message_fails_at_once_with_the_vendors_reason(aggregator):
    channel = await started(connection(aggregator))
    try:
        bad = OutboundMessage(edr_id=1, sender="ShopCo", destination="12", text="Hi")
        [result] = await channel.send_batch([bad])
        wrong_key = await started(connection(aggregator, id=2, api_key="nope"))
        [unauthorised] = await wrong_key.send_batch(messages(1))
        await wrong_key.stop()
    finally:
        await channel.stop()
    assert not result.accepted and "HTTP 400" in result.error and "destination_addr" in result.error
    assert not unauthorised.accepted and "HTTP 401" in unauthorised.error and "invalid API key" in unauthorised.error
    assert not aggregator.submitted


async def test_no_answer_is_an_unknown_outcome_never_sent_again(aggregator):
    aggregator.mute = True
    channel = await started(connection(aggregator, request_timeout=0.3))
    try:
        results = await channel.send_batch(messages(3))
    finally:
        await channel.stop()
    assert all(r.unknown and not r.accepted and "no answer" in r.error for r in results)


async def test_no_connection_fails_every_message_plainly():
    channel = await started()
    results = await channel.send_batch(messages(2))
    assert [r.error for r in results] == [NO_CONNECTION] * 2 and not any(r.accepted or r.unknown for r in results)


def _request(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return WebhookRequest(headers=headers, body=body)


def test_callbacks_are_read_only_with_the_connections_signature():
    conn = VendorConnection(id=3, channel="viber", name="v", settings={"webhook_secret": "s3cret"})
    body = (
        b'[{"message_id": 41, "status": "seen", "error_code": 0, "timestamp": 1700000000},'
        b' {"message_id": "42", "status": 4, "error_code": 12},'
        b' {"message_id": "m1", "recipient_response": {"recipient": {"phone": 34607000001}, "from": "ShopCo",'
        b' "content": {"type": "text", "text": "STOP"}}}]'
    )
    callback = ViberChannel().parse_callback(conn, _request(body, sign("s3cret", body)))
    seen, undelivered = callback.reports
    assert (seen.vendor_message_id, seen.state, seen.connection, seen.done_at.year) == ("41", "seen", 3, 2023)
    assert (undelivered.state, undelivered.vendor_status, undelivered.error_code) == ("undelivered", "4", "12")
    [reply] = callback.inbound
    assert (reply.channel, reply.source, reply.destination, reply.text) == ("viber", "34607000001", "ShopCo", "STOP")
    for signature in (None, "", sign("other", body), sign("s3cret", body + b" "), "é" * 64):
        with pytest.raises(Unauthenticated):
            ViberChannel().parse_callback(conn, _request(body, signature))
    with pytest.raises(Unauthenticated):  # a connection without a secret accepts nothing
        ViberChannel().parse_callback(
            VendorConnection(id=4, channel="viber", name="w", settings={}), _request(body, "")
        )
    with pytest.raises(InvalidInput, match="not JSON"):
        ViberChannel().parse_callback(conn, _request(b"{", sign("s3cret", b"{")))
    for bad in (b'{"status": 1}', b'{"message_id": "%s", "status": 1}' % (b"9" * 66)):
        with pytest.raises(InvalidInput, match="Unexpected callback"):
            ViberChannel().parse_callback(conn, _request(bad, sign("s3cret", bad)))
