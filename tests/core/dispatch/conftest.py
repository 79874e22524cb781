"""An SMS world for engine tests: the seed numbering book, a rate plan, a funded company, the stand-in SMSC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from core.actor import Actor
from core.billing.services import change_balance
from core.billing.tables import HeldPack, PlanAssignment, Rate, RatePlan
from core.campaigns.tables import Campaign
from core.db import write_transaction
from core.dispatch.tables import VendorConnection
from core.numbering.services import load_seed
from core.tenancy.tables import Partner
from plugins.sms.simulator import StandInSmsc
from tests.core.contacts.helpers import actor_of
from tests.factories import Tenant, World, make_world

ES_ALL = 50_000  # 0.05 EUR per part to any Spanish network
ES_VODAFONE = 40_000  # 0.04 EUR per part to Vodafone Spain (214 01), which wins over All networks
FUNDS = 100_000_000  # 100 EUR
R_VODAFONE = 25_000  # what the owner charges a reseller per part to Vodafone Spain (chain charging)
R_ALL = 30_000  # … and to any other Spanish network


@dataclass
class SmsWorld:
    world: World
    tenant: Tenant
    actor: Actor
    smsc: StandInSmsc
    plan_id: int


async def add_plan(partner_id: int, *, mode: str = "submitted") -> int:
    owner = await Partner.select(Partner.id, Partner.path).where(Partner.kind == "owner").first()
    now = datetime.now(UTC)
    plan = (
        await RatePlan.insert(
            RatePlan(
                partner=owner["id"],
                partner_path=owner["path"],
                name=f"SMS {mode}",
                channel="sms",
                mode=mode,
                currency="EUR",
                created_at=now,
                updated_at=now,
            )
        ).returning(RatePlan.id)
    )[0]["id"]
    await Rate.insert(
        Rate(plan=plan, country_iso="ES", mcc="214", mnc="", price=ES_ALL),
        Rate(plan=plan, country_iso="ES", mcc="214", mnc="01", price=ES_VODAFONE),
    )
    await PlanAssignment.delete().where(PlanAssignment.slot == f"{partner_id}:sms")
    await PlanAssignment.insert(
        PlanAssignment(partner=partner_id, plan=plan, channel="sms", slot=f"{partner_id}:sms", assigned_at=now)
    )
    return plan


async def level_plan(partner_id: int, *, vodafone: int = R_VODAFONE, others: int | None = R_ALL) -> int:
    """The owner's plan for the reseller (``others`` None: no All networks rate, so only Vodafone is priced)."""
    owner = await Partner.select(Partner.id, Partner.path).where(Partner.kind == "owner").first()
    now = datetime.now(UTC)
    plan = (
        await RatePlan.insert(
            RatePlan(
                partner=owner["id"],
                partner_path=owner["path"],
                name="Reseller SMS",
                channel="sms",
                mode="submitted",
                currency="EUR",
                created_at=now,
                updated_at=now,
            )
        ).returning(RatePlan.id)
    )[0]["id"]
    rates = [Rate(plan=plan, country_iso="ES", mcc="214", mnc="01", price=vodafone)]
    if others is not None:
        rates.append(Rate(plan=plan, country_iso="ES", mcc="214", mnc="", price=others))
    await Rate.insert(*rates)
    await PlanAssignment.delete().where(PlanAssignment.slot == f"{partner_id}:sms")
    await PlanAssignment.insert(
        PlanAssignment(partner=partner_id, plan=plan, channel="sms", slot=f"{partner_id}:sms", assigned_at=now)
    )
    return plan


async def hold(partner_id: int, units: int, *, days: int | None = None, mode: str = "submitted", networks=()) -> int:
    """A pack the partner bought (the purchase itself is the billing domain's; here it is simply held)."""
    now = datetime.now(UTC)
    row = HeldPack(
        partner=partner_id,
        name=f"Spain {units}",
        channel="sms",
        country_iso="ES",
        networks=list(networks),
        mode=mode,
        messages=units,
        remaining=units,
        price=1_000_000,
        currency="EUR",
        purchased_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    await row.save()
    return row.id


async def fund(partner_id: int, micros: int) -> None:
    async with write_transaction():
        await change_balance(partner_id, micros, kind="manual", description="Test funds", initiator=None)


@pytest.fixture
async def sms(app) -> AsyncIterator[SmsWorld]:
    world = await make_world()
    await load_seed()
    smsc = StandInSmsc(receipt_delay=0.05)
    await smsc.start("127.0.0.1", 0)
    now = datetime.now(UTC)
    await VendorConnection.insert(
        VendorConnection(
            channel="sms",
            name="Stand-in",
            settings=smsc.connection_settings(),
            enabled=True,
            created_at=now,
            updated_at=now,
        )
    )
    plan = await add_plan(world.a.end_user_id)
    await fund(world.a.end_user_id, FUNDS)
    try:
        yield SmsWorld(world=world, tenant=world.a, actor=await actor_of(world.a), smsc=smsc, plan_id=plan)
    finally:
        await smsc.stop()


async def wait_for_status(campaign_id: int, statuses: set[str], limit_s: float = 30.0) -> dict:
    """Poll the campaign row until it reaches one of ``statuses`` (the engine runs in the test's worker)."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        row = await Campaign.select().where(Campaign.id == campaign_id).first()
        if row["status"] in statuses:
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"campaign {campaign_id} still {row['status']}: {row}")
        await asyncio.sleep(0.1)
