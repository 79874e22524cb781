"""WhatsApp fixtures: the stand-in Cloud API on loopback, channel-only helpers, and a tenant sending WhatsApp
campaigns with the session's app behind uvicorn for Meta's webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from core import DeliveryReport, InboundMessage, OutboundMessage, VendorConnection
from core.actor import Actor
from core.billing.tables import PlanAssignment, Rate, RatePlan
from core.dispatch.tables import VendorConnection as ConnectionRow
from core.message_templates.tables import VendorTemplate
from core.numbering.services import load_seed
from core.senders.tables import Sender
from core.tenancy.tables import Partner
from plugins.whatsapp.provider import WhatsAppChannel
from plugins.whatsapp.simulator import StandInWhatsApp
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import fund
from tests.factories import Tenant, World, make_world
from tests.plugins.viber.conftest import served as served  # the app behind uvicorn, for Meta's webhooks

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


WHATSAPP_RATE = 30_000  # 0.03 EUR per template message to any Spanish network, charged when delivered


@dataclass
class WhatsAppWorld:
    world: World
    tenant: Tenant
    actor: Actor
    meta: StandInWhatsApp
    connection_id: int
    sender_id: int
    template_id: int
    base_url: str

    @property
    def hook(self) -> str:
        return f"{self.base_url}/hooks/whatsapp/{self.connection_id}"


async def add_connection(name: str, settings: dict) -> int:
    now = datetime.now(UTC)
    rows = await ConnectionRow.insert(
        ConnectionRow(channel="whatsapp", name=name, settings=settings, enabled=True, created_at=now, updated_at=now)
    ).returning(ConnectionRow.id)
    return rows[0]["id"]


async def add_template(
    partner_id: int, connection_id: int, name: str = "order_update", status: str = "approved"
) -> int:
    now = datetime.now(UTC)
    rows = await VendorTemplate.insert(
        VendorTemplate(
            partner=partner_id,
            channel="whatsapp",
            connection=connection_id,
            name=name,
            language="es",
            category="utility",
            body=BODY,
            status=status,
            vendor_template_id=f"t-{name}",
            created_at=now,
            updated_at=now,
        )
    ).returning(VendorTemplate.id)
    return rows[0]["id"]


async def add_whatsapp_plan(partner_id: int) -> None:
    owner = await Partner.select(Partner.id, Partner.path).where(Partner.kind == "owner").first()
    now = datetime.now(UTC)
    plan = (
        await RatePlan.insert(
            RatePlan(
                partner=owner["id"],
                partner_path=owner["path"],
                name="WhatsApp",
                channel="whatsapp",
                mode="delivered",
                currency="EUR",
                created_at=now,
                updated_at=now,
            )
        ).returning(RatePlan.id)
    )[0]["id"]
    await Rate.insert(Rate(plan=plan, country_iso="ES", mcc="214", mnc="", price=WHATSAPP_RATE))
    await PlanAssignment.insert(
        PlanAssignment(
            partner=partner_id, plan=plan, channel="whatsapp", slot=f"{partner_id}:whatsapp", assigned_at=now
        )
    )


@pytest.fixture
async def whatsapp(app, served: str, meta: StandInWhatsApp) -> WhatsAppWorld:
    world = await make_world()
    await load_seed()
    connection_id = await add_connection("Stand-in WhatsApp", meta.connection_settings())
    meta.webhook_url = f"{served}/hooks/whatsapp/{connection_id}"  # set once in Meta's app, not per message
    now = datetime.now(UTC)
    sender = await Sender.insert(
        Sender(partner=world.a.end_user_id, channel="whatsapp", name="34910000000", status="enabled", created_at=now)
    ).returning(Sender.id)
    await add_whatsapp_plan(world.a.end_user_id)
    await fund(world.a.end_user_id, 100_000_000)
    return WhatsAppWorld(
        world=world,
        tenant=world.a,
        actor=await actor_of(world.a),
        meta=meta,
        connection_id=connection_id,
        sender_id=sender[0]["id"],
        template_id=await add_template(world.a.end_user_id, connection_id),
        base_url=served,
    )
