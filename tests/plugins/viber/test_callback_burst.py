"""The stand-in Viber aggregator calls a burst of statuses back without failing any try: a callback that waits for a
connection behind the burst has not been tried yet (its tries used to run out in httpx's pool, and it was lost)."""

from __future__ import annotations

import asyncio
import base64
import logging

import h11
import httpx

from plugins.viber.simulator import StandInViber
from tests.waiting import eventually

BURST = 250
SLOW_FOR_S = 11.0  # longer than httpx's pool timeout was (10 s)
HOLD_S = 5.5  # each answer within the slow time: below the request timeout, yet two rounds of them exceed the pool's


async def test_a_burst_of_callbacks_behind_a_slow_portal_is_posted_once_each_without_a_failed_try(caplog):
    received: list[bytes] = []
    loop = asyncio.get_running_loop()
    slow_until = loop.time() + SLOW_FOR_S

    async def portal(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A portal that takes its time over the first seconds of the burst, then answers at once."""
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    connection.receive_data(await reader.read(65_536))
                elif isinstance(event, h11.Data):
                    received.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    if loop.time() < slow_until:
                        await asyncio.sleep(HOLD_S)
                    writer.write(connection.send(h11.Response(status_code=200, headers=[("content-length", "0")])))
                    writer.write(connection.send(h11.EndOfMessage()) or b"")
                    await writer.drain()
                    connection.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    return
        except (h11.RemoteProtocolError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(portal, "127.0.0.1", 0)
    hook = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hooks/viber/1"
    viber = StandInViber(outcomes={})
    await viber.start("127.0.0.1", 0)
    viber.hold_callbacks = True
    auth = base64.b64encode(b"demo-key:").decode()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{viber.port}") as client:
            for n in range(BURST):
                body = {
                    "source_addr": "SHOP",
                    "destination_addr": f"34607{n:06d}",
                    "message_type": 106,
                    "text": "hi",
                    "source_type": 2,
                    "validity_period": 60,
                    "callback_url": hook,
                }
                answer = await client.post("/send-viber", json=body, headers={"authorization": f"Basic {auth}"})
                assert answer.status_code == 200
        with caplog.at_level(logging.WARNING, logger="plugins.viber.simulator"):
            slow_until = loop.time() + SLOW_FOR_S
            assert viber.release_callbacks() == BURST
            await eventually(lambda: viber.callbacks_sent == BURST, within=60, every=0.1)
        assert len(received) == BURST and viber.callback_answers == {200: BURST}
        # Warnings only: whether the stand-in's INFO lines are captured depends on what earlier tests in the process
        # did to logging levels.
        failed = [
            r.getMessage()
            for r in caplog.records
            if r.name == "plugins.viber.simulator" and r.levelno >= logging.WARNING
        ]
        assert not failed
    finally:
        await viber.stop()
        server.close()
