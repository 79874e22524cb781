"""Benchmark: SMPP submit + receipt throughput of our SmsChannel next to a raw blast over the same stand-in SMSC.

The stand-in SMSC (plugins/sms/simulator.py) runs in its own process and answers every submit_sm at once with a
submit_sm_resp and a delivery receipt. Two clients are timed against it, in the same run, for N messages over 1
and over 4 connections:

- raw: pre-encoded submit_sm PDUs written by a minimal asyncio.Protocol client with a window of 64, counting the
  responses and the receipts (each answered with deliver_sm_resp) until all N of both are in; no Redis, no
  objects per message beyond the bytes. This is the ceiling of the wire, the codec and the stand-in.
- client: SmsChannel.send_batch, the path dispatch uses: batches of 1,000 OutboundMessage (4 in flight), GSM-7
  encoding, the Redis token bucket (embedded Redis, throughput set above the rate reached), windowing, results,
  receipts parsed into DeliveryReport and handed to a recorder in batches; timed until every receipt is recorded.

Prints each figure next to the raw one and, last, one JSON line for the 4-connection run:
{"messages", "raw_msgs_per_s", "client_msgs_per_s", "ratio"}.

    python bench/smpp_raw.py [-n 20000]

``raw_blast(host, port, n, connections, window)`` is importable (bench/dispatch.py uses it as its baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.sms import pdu  # noqa: E402


class _RawClient(asyncio.Protocol):
    """Writes pre-encoded submit_sm PDUs, keeping ``window`` outstanding; answers receipts."""

    def __init__(self, pdus: list[bytes], window: int, done: asyncio.Future[None], bind: bytes) -> None:
        self.pdus, self.window, self.done, self.bind = pdus, window, done, bind
        self.buffer = bytearray()
        self.sent = self.responses = self.receipts = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.bind)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        for command_id, status, seq, _ in pdu.split_frames(self.buffer):
            if command_id == pdu.SUBMIT_SM_RESP:
                self.responses += 1
                if self.sent < len(self.pdus):
                    out.append(self.pdus[self.sent])
                    self.sent += 1
            elif command_id == pdu.DELIVER_SM:
                self.receipts += 1
                out.append(pdu.deliver_sm_resp(seq))
            elif command_id == pdu.BIND_TRANSCEIVER_RESP:
                if status:
                    self.done.set_exception(RuntimeError(f"bind refused: {pdu.status_text(status)}"))
                    return
                self.sent = min(self.window, len(self.pdus))
                out.extend(self.pdus[: self.sent])
        if out and self.transport is not None:
            self.transport.write(b"".join(out))
        if self.responses == self.receipts == len(self.pdus) and not self.done.done():
            self.done.set_result(None)


async def raw_blast_async(
    host: str,
    port: int,
    n: int,
    connections: int = 1,
    window: int = 64,
    system_id: str = "portal",
    password: str = "secret",  # noqa: S107 - the stand-in's demo credential
) -> float:
    """Messages per second of the raw blast (responses and receipts all in); see the module docstring."""
    loop = asyncio.get_running_loop()
    share = [n // connections + (1 if i < n % connections else 0) for i in range(connections)]
    clients, futures, start_index = [], [], 0
    for count in share:
        # Pre-encoded before the clock starts: the raw figure measures the wire, not encoding.
        pdus = [
            pdu.pdu(
                pdu.SUBMIT_SM,
                seq + 2,
                pdu.submit_sm_body(5, 0, b"Bench", b"4915%09d" % (start_index + seq), 0, 0, b"Raw blast message"),
            )
            for seq in range(count)
        ]
        start_index += count
        done = loop.create_future()
        futures.append(done)
        clients.append((pdus, done))
    transports = []
    started = time.perf_counter()
    for pdus, done in clients:
        bind = pdu.bind_transceiver(1, system_id, password)
        transport, _ = await loop.create_connection(
            lambda p=pdus, d=done, b=bind: _RawClient(p, window, d, b), host, port
        )
        transports.append(transport)
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    for transport in transports:
        transport.close()
    return n / elapsed


def raw_blast(host: str, port: int, n: int, connections: int = 1, window: int = 64) -> float:
    """raw_blast_async() for callers without an event loop."""
    return asyncio.run(raw_blast_async(host, port, n, connections, window))


class _Recorder:
    """The Portal as SmsChannel sees it, counting receipts instead of writing EDRs."""

    def __init__(self, redis: Any, connections: list[Any]) -> None:
        self.redis, self.connections, self.reports, self.calls = redis, connections, 0, 0

    async def vendor_connections(self, channel: str) -> list[Any]:
        return self.connections

    async def record_deliveries(self, channel: str, reports: Any) -> None:
        self.calls += 1
        self.reports += len(reports)

    async def record_inbound(self, messages: Any) -> None:
        pass


async def client_path(host: str, port: int, n: int, connections: int, redis_url: str) -> float:
    """Messages per second through SmsChannel.send_batch until every receipt is recorded."""
    from redis.asyncio import Redis

    from core import OutboundMessage, VendorConnection
    from plugins.sms.provider import SmsChannel

    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    settings = {"host": host, "port": port, "system_id": "portal", "password": "secret"}
    settings |= {"window": 64, "throughput": 100_000}
    conns = [
        VendorConnection(id=i + 1, channel="sms", name=f"bench-{i + 1}", settings=settings) for i in range(connections)
    ]
    recorder = _Recorder(redis, conns)
    channel = SmsChannel()
    await channel.start(recorder)  # type: ignore[arg-type]
    messages = [
        OutboundMessage(edr_id=i, sender="Bench", destination=f"4916{i:09d}", text="Client path message")
        for i in range(n)
    ]
    batches = [messages[i : i + 1000] for i in range(0, n, 1000)]
    gate = asyncio.Semaphore(4)  # a few send jobs at once, as dispatch workers would run them

    async def send(batch: list[Any]) -> int:
        async with gate:
            return sum(r.accepted for r in await channel.send_batch(batch))

    started = time.perf_counter()
    accepted = sum(await asyncio.gather(*(send(b) for b in batches)))
    while recorder.reports < n:  # noqa: ASYNC110 - the recorder is a plain counter, polled like a user would
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    await channel.stop()
    await redis.aclose()
    if accepted != n:
        raise RuntimeError(f"only {accepted} of {n} accepted")
    return n / elapsed


def _serve(ready: Any, host: str) -> None:
    from plugins.sms.simulator import StandInSmsc

    async def main() -> None:
        smsc = StandInSmsc(keep_last=10)
        ready.send(await smsc.start(host, 0))
        await asyncio.Event().wait()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=20_000)
    args = parser.parse_args()
    n, host = args.messages, "127.0.0.1"

    from core.redis_embedded import EmbeddedRedis

    redis_server = EmbeddedRedis(tempfile.mkdtemp(prefix="smpp-bench-"))
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child, host), daemon=True)
    server.start()
    port = parent.recv()
    try:
        raw_blast(host, port, 2_000, 1, 64)  # warm-up: imports, the stand-in's first allocations
        figures = {}
        for connections in (1, 4):
            raw = raw_blast(host, port, n, connections, 64)
            client = asyncio.run(client_path(host, port, n, connections, redis_server.url))
            figures[connections] = (raw, client)
            print(f"{connections} connection(s), {n:,} messages with receipts:")
            print(f"  raw blast (window 64)        {raw:10,.0f} msg/s")
            print(f"  SmsChannel.send_batch        {client:10,.0f} msg/s   ({client / raw:.0%} of raw)")
        raw, client = figures[4]
        print(
            json.dumps(
                {
                    "messages": n,
                    "raw_msgs_per_s": round(raw),
                    "client_msgs_per_s": round(client),
                    "ratio": round(client / raw, 3),
                }
            )
        )
    finally:
        server.terminate()
        server.join()
        redis_server.close()


if __name__ == "__main__":
    main()
