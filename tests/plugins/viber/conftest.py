"""Viber fixtures: the stand-in aggregator on loopback, and the session's app behind uvicorn for its callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
import pytest
import uvicorn

from core import DeliveryReport, InboundMessage, VendorConnection
from core.actor import Actor
from core.billing.tables import PlanAssignment, Rate, RatePlan
from core.campaigns.tables import Campaign
from core.dispatch.tables import Edr
from core.dispatch.tables import VendorConnection as ConnectionRow
from core.numbering.services import load_seed
from core.senders.tables import Sender
from core.tenancy.tables import Partner
from plugins.viber.simulator import StandInViber
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import fund
from tests.factories import Tenant, World, make_world

VIBER_RATE = 20_000  # 0.02 EUR per message to any Spanish network, charged when delivered


@pytest.fixture
async def aggregator() -> AsyncIterator[StandInViber]:
    server = StandInViber(outcomes={})
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


class Recorder:
    """Stands in for the Portal façade in channel-only tests: its connections, and no webhook address."""

    def __init__(self, connections: list[VendorConnection], redis: object = None) -> None:
        self.connections = connections
        self.redis = redis  # the per-second limit's shared bucket; None limits each channel on its own

    async def vendor_connections(self, channel: str) -> list[VendorConnection]:
        assert channel == "viber"
        return list(self.connections)

    def webhook_url(self, channel: str, connection_id: int) -> str:
        return ""  # the stand-in then calls nobody back

    async def record_deliveries(self, channel: str, reports: Sequence[DeliveryReport]) -> None:
        raise AssertionError("the Viber channel hands reports over by webhook only")

    async def record_inbound(self, messages: Sequence[InboundMessage]) -> None:
        raise AssertionError("the Viber channel hands inbound messages over by webhook only")


@pytest.fixture
async def served(app: object) -> AsyncIterator[str]:
    """The session's app behind uvicorn on a free loopback port, and the Portal's webhooks pointed at it."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    portal = app.state.portal  # type: ignore[attr-defined]
    before = portal.settings
    portal.settings = msgspec.structs.replace(before, webhook_base_url=base)
    try:
        yield base
    finally:
        portal.settings = before
        server.should_exit = True
        await task


@dataclass
class ViberWorld:
    world: World
    tenant: Tenant
    actor: Actor
    aggregator: StandInViber
    connection_id: int
    sender_id: int
    base_url: str


async def add_connection(name: str, settings: dict) -> int:
    now = datetime.now(UTC)
    rows = await ConnectionRow.insert(
        ConnectionRow(channel="viber", name=name, settings=settings, enabled=True, created_at=now, updated_at=now)
    ).returning(ConnectionRow.id)
    return rows[0]["id"]


async def add_viber_plan(partner_id: int) -> None:
    owner = await Partner.select(Partner.id, Partner.path).where(Partner.kind == "owner").first()
    now = datetime.now(UTC)
    plan = (
        await RatePlan.insert(
            RatePlan(
                partner=owner["id"],
                partner_path=owner["path"],
                name="Viber",
                channel="viber",
                mode="delivered",
                currency="EUR",
                created_at=now,
                updated_at=now,
            )
        ).returning(RatePlan.id)
    )[0]["id"]
    await Rate.insert(Rate(plan=plan, country_iso="ES", mcc="214", mnc="", price=VIBER_RATE))
    await PlanAssignment.insert(
        PlanAssignment(partner=partner_id, plan=plan, channel="viber", slot=f"{partner_id}:viber", assigned_at=now)
    )


@pytest.fixture
async def viber(app, served: str, aggregator: StandInViber) -> ViberWorld:
    world = await make_world()
    await load_seed()
    connection_id = await add_connection("Stand-in Viber", aggregator.connection_settings())
    now = datetime.now(UTC)
    sender = await Sender.insert(
        Sender(partner=world.a.end_user_id, channel="viber", name="ShopViber", status="enabled", created_at=now)
    ).returning(Sender.id)
    await add_viber_plan(world.a.end_user_id)
    await fund(world.a.end_user_id, 100_000_000)
    return ViberWorld(
        world=world,
        tenant=world.a,
        actor=await actor_of(world.a),
        aggregator=aggregator,
        connection_id=connection_id,
        sender_id=sender[0]["id"],
        base_url=served,
    )


async def edrs_of(campaign_id: int) -> dict[str, dict]:
    """The campaign's EDRs by destination."""
    rows = await Edr.select().where(Edr.campaign == campaign_id)
    return {r["destination"]: r for r in rows}


async def campaign_row(campaign_id: int) -> dict:
    return await Campaign.select().where(Campaign.id == campaign_id).first()
