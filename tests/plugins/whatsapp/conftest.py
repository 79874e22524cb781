"""WhatsApp fixtures: the stand-in Cloud API on loopback, and channel-only helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from core import DeliveryReport, InboundMessage, OutboundMessage, VendorConnection
from plugins.whatsapp.provider import WhatsAppChannel
from plugins.whatsapp.simulator import StandInWhatsApp

FAST = {"backoff": (0.05, 0.2), "retry_for": 5.0}
BODY = "Hi {{1}}, your order {{2}} is on its way"
TEMPLATE = {"template_name": "order_update", "template_language": "es", "template_body": BODY}


@pytest.fixture
async def meta() -> AsyncIterator[StandInWhatsApp]:
    server = StandInWhatsApp(outcomes={})
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


class Recorder:
    """Stands in for the Portal façade in channel-only tests: its connections and nothing else."""

    def __init__(self, connections: list[VendorConnection]) -> None:
        self.connections = connections
        self.redis = None

    async def vendor_connections(self, channel: str) -> list[VendorConnection]:
        assert channel == "whatsapp"
        return list(self.connections)

    async def record_deliveries(self, channel: str, reports: Sequence[DeliveryReport]) -> None:
        raise AssertionError("the WhatsApp channel hands reports over by webhook only")

    async def record_inbound(self, messages: Sequence[InboundMessage]) -> None:
        raise AssertionError("the WhatsApp channel hands inbound messages over by webhook only")


def connection(meta: StandInWhatsApp, id: int = 1, **overrides: object) -> VendorConnection:
    return VendorConnection(id=id, channel="whatsapp", name=f"wa-{id}", settings=meta.connection_settings() | overrides)


def messages(n: int, start: int = 0, extra: dict[str, str] | None = None) -> list[OutboundMessage]:
    return [
        OutboundMessage(
            edr_id=start + i,
            sender="34910000000",
            destination=f"+3460700{start + i:04d}",
            text=f"Hi Ana {i}, your order A-{i} is on its way",
            extra=TEMPLATE if extra is None else extra,
        )
        for i in range(n)
    ]


async def started(*connections: VendorConnection, **options: object) -> WhatsAppChannel:
    channel = WhatsAppChannel(client_options=FAST | options)
    await channel.start(Recorder(list(connections)))  # type: ignore[arg-type]
    return channel
