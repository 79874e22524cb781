"""SMS plugin fixtures: a stand-in SMSC on loopback, a recorder in the Portal's place, the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from redis.asyncio import Redis

from core import DeliveryReport, InboundMessage, VendorConnection
from plugins.sms.provider import SmsChannel
from plugins.sms.simulator import StandInSmsc
from tests.waiting import eventually

# Short back-offs and timeouts so failure paths take fractions of a second, not the production defaults.
FAST = {"reconnect_delay": (0.05, 0.2), "throttle_backoff": (0.05, 0.3), "unbound_timeout": 3.0}


@pytest.fixture(autouse=True)
async def clean_state(redis_url: str) -> AsyncIterator[None]:
    """Replaces the suite's autouse fixture: these tests touch no table, only the rate-limit buckets in Redis."""
    redis = Redis.from_url(redis_url)
    stale = [key async for key in redis.scan_iter("sms:bucket:*")]
    if stale:
        await redis.delete(*stale)
    await redis.aclose()
    yield


class Recorder:
    """Stands in for the Portal façade: the vendor connections it is given, and what the channel reports."""

    def __init__(self, redis: Redis, connections: list[VendorConnection]) -> None:
        self.redis = redis
        self.connections = connections
        self.reports: list[DeliveryReport] = []
        self.inbound: list[InboundMessage] = []
        self.delivery_calls = 0

    async def vendor_connections(self, channel: str) -> list[VendorConnection]:
        assert channel == "sms"
        return list(self.connections)

    async def record_deliveries(self, channel: str, reports: Sequence[DeliveryReport]) -> None:
        assert channel == "sms"
        self.delivery_calls += 1
        self.reports.extend(reports)

    async def record_inbound(self, messages: Sequence[InboundMessage]) -> None:
        self.inbound.extend(messages)

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        await eventually(condition, within)


@pytest.fixture
async def smsc() -> AsyncIterator[StandInSmsc]:
    server = StandInSmsc()
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def connection(smsc: StandInSmsc, id: int = 1, **overrides: Any) -> VendorConnection:
    return VendorConnection(id=id, channel="sms", name=f"smsc-{id}", settings=smsc.connection_settings() | overrides)


@pytest.fixture
async def started(smsc: StandInSmsc, redis: Redis) -> AsyncIterator[Callable[..., Any]]:
    """start(connections, **client_options) → (channel, recorder), both stopped after the test."""
    channels: list[SmsChannel] = []

    async def start(connections: list[VendorConnection] | None = None, **options: Any) -> tuple[SmsChannel, Recorder]:
        recorder = Recorder(redis, connections if connections is not None else [connection(smsc)])
        channel = SmsChannel(client_options=FAST | options)
        channels.append(channel)
        await channel.start(recorder)  # type: ignore[arg-type]
        return channel, recorder

    yield start
    for channel in channels:
        await channel.stop()
