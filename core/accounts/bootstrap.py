"""The first partner of an installation: the system owner and its first user (``portal createowner``)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.accounts.passwords import hash_password
from core.accounts.schemas import UserCreate
from core.accounts.services import load_actor
from core.accounts.tables import User
from core.actor import Actor
from core.db import write_transaction
from core.errors import Conflict
from core.tenancy.scope import path_segment
from core.tenancy.tables import Partner


async def create_owner(name: str, currency: str, user: UserCreate) -> Actor:
    """Create the root partner and its admin; there is one owner per installation.

    Raises:
        Conflict: an owner exists already, or the e-mail is taken.
    """
    password_hash = await hash_password(user.password)
    async with write_transaction():
        if await Partner.exists().where(Partner.kind == "owner"):
            raise Conflict("This installation already has a system owner")
        if await User.exists().where(User.email == user.email.lower()):
            raise Conflict("A user with this e-mail already exists", field="email")
        partner = Partner(name=name, kind="owner", path="/", currency=currency, created_at=datetime.now(UTC))
        await partner.save()
        await Partner.update({Partner.path: "/" + path_segment(partner.id)}).where(Partner.id == partner.id)
        row = User(
            partner=partner.id,
            email=user.email.lower(),
            password_hash=password_hash,
            first_name=user.first_name,
            last_name=user.last_name,
            role="admin",
            created_at=datetime.now(UTC),
        )
        await row.save()
    actor = await load_actor(row.id, 0, check_portal=False)
    assert actor is not None
    return actor


async def owner_actor() -> Actor | None:
    """The first admin of the system owner, to act for the command line."""
    owner = await Partner.select(Partner.id).where(Partner.kind == "owner").first()
    if owner is None:
        return None
    admin = (
        await User.select(User.id)
        .where((User.partner == owner["id"]) & (User.role == "admin"))
        .order_by(User.id)
        .first()
    )
    return await load_actor(admin["id"], 0, check_portal=False) if admin else None
