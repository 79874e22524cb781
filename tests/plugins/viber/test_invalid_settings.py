"""A Viber connection whose stored settings break a limit (a throughput above 10,000) is left out of sending: the
channel still starts, and the other connections carry the messages."""

from __future__ import annotations

import pytest

from plugins.viber import provider
from plugins.viber.simulator import StandInViber
from tests.plugins.viber.test_channel import connection, messages, started


@pytest.fixture(autouse=True)
async def clean_state() -> None:
    """Replaces the suite's autouse fixture: these tests touch no table."""


async def test_a_connection_above_the_throughput_limit_is_left_out_and_the_others_send(aggregator: StandInViber):
    channel = await started(connection(aggregator, id=1, throughput=20_000), connection(aggregator, id=2))
    try:
        results = await channel.send_batch(messages(4))
    finally:
        await channel.stop()
    assert [(r.accepted, r.connection) for r in results] == [(True, 2)] * 4
    assert len(aggregator.last_requests) == 4


async def test_with_no_valid_connection_the_messages_fail_saying_why(aggregator: StandInViber):
    channel = await started(connection(aggregator, id=1, throughput=20_000))
    try:
        results = await channel.send_batch(messages(2))
    finally:
        await channel.stop()
    assert [(r.accepted, r.error) for r in results] == [(False, provider.INVALID_SETTINGS)] * 2
    assert not aggregator.last_requests
