"""The company most benchmarks send as: an owner, its portal, an end user with a user, a sender ID, an SMS plan
priced for Vodafone Spain and an empty contact group. Called after the database is configured."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

RATE = 40_000  # 0.04 EUR per part to Vodafone Spain
USER = "shop@x.test"


@dataclass
class Shop:
    owner: Any  # the owner's Actor
    portal_id: int
    company_id: int
    sender_id: int
    group_id: int

    async def actor(self) -> Any:
        """The company user's Actor (load it after the contacts are in: nothing else changes it)."""
        from core.accounts.services import load_actor
        from core.accounts.tables import User

        user = await User.select(User.id).where(User.email == USER).first()
        return await load_actor(user["id"], self.portal_id)


async def sms_shop() -> Shop:
    """Migrate, load the numbering book and create the shop."""
    from core import db
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.accounts.services import create_user
    from core.billing.tables import PlanAssignment, Rate, RatePlan
    from core.contacts.tables import ContactGroup
    from core.numbering.services import load_seed
    from core.senders.schemas import SenderCreate
    from core.senders.services import create_sender
    from core.tenancy.schemas import PartnerCreate, PortalCreate
    from core.tenancy.services import create_partner, create_portal
    from core.tenancy.tables import Partner

    await db.migrate()
    await load_seed()
    owner = await create_owner(
        "Bench Owner", "EUR", UserCreate(email="bench@x.test", first_name="B", last_name="O", password="bench-password")
    )
    portal = await create_portal(owner, PortalCreate(slug="bench", brand_name="Bench", hosts=["bench.test"]))
    company = await create_partner(owner, PartnerCreate(name="Shop", kind="end_user", portal_id=portal.id))
    await create_user(
        owner, company.id, UserCreate(email=USER, first_name="S", last_name="A", password="bench-password")
    )
    sender = await create_sender(owner, company.id, SenderCreate(channel="sms", name="SHOP"))
    now = datetime.now(UTC)
    owner_row = await Partner.select(Partner.id, Partner.path).where(Partner.kind == "owner").first()
    plan = (
        await RatePlan.insert(
            RatePlan(
                partner=owner_row["id"],
                partner_path=owner_row["path"],
                name="Bench",
                channel="sms",
                mode="submitted",
                currency="EUR",
                created_at=now,
                updated_at=now,
            )
        ).returning(RatePlan.id)
    )[0]["id"]
    await Rate.insert(Rate(plan=plan, country_iso="ES", mcc="214", mnc="01", price=RATE))
    await PlanAssignment.insert(
        PlanAssignment(partner=company.id, plan=plan, channel="sms", slot=f"{company.id}:sms", assigned_at=now)
    )
    group = (
        await ContactGroup.insert(ContactGroup(partner=company.id, name="Everyone", created_at=now)).returning(
            ContactGroup.id
        )
    )[0]["id"]
    return Shop(owner=owner, portal_id=portal.id, company_id=company.id, sender_id=sender.id, group_id=group)
