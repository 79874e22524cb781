"""Sender IDs: the owner keeps the list per partner and channel; others ask for theirs (core.senders.requests)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from msgspec import UNSET
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.db import must_exist, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.plugins import registries
from core.senders.schemas import SenderCreate, SenderUpdate, SenderView
from core.senders.tables import Sender
from core.tenancy import audit
from core.tenancy import requests as chain
from core.tenancy.schemas import OPEN_REQUEST_STATUSES
from core.tenancy.scope import in_subtree, of_visible_partner, owned, require_owner, visible_partner
from core.web.i18n import N_

REQUEST_KIND = "sender_id"  # the kind of request (core.senders.requests) that reserves a waiting sender

# SID-1: alphanumeric up to 11 characters (at least one letter), or a number up to 15 digits.
_ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ._&-]{1,11}$")
_NUMERIC = re.compile(r"^\+?[0-9]{1,15}$")


def today() -> date:
    """The day validity is judged on: UTC, the same for every partner (``Sender.valid_until``)."""
    return datetime.now(UTC).date()


def usable(on: date | None = None) -> Combinable:
    """The one condition on ``Sender`` for a sender ID that may be used now (SID-3): enabled and within its
    validity. Expired ones are also switched off by ``expire_senders``; this keeps the gap between closed."""
    return (Sender.status == "enabled") & (Sender.valid_until.is_null() | (Sender.valid_until >= (on or today())))


def sender_view(row: dict[str, Any]) -> SenderView:
    valid_until = row.get("valid_until")
    if isinstance(valid_until, str):  # SQLite gives dates back as text
        valid_until = date.fromisoformat(valid_until)
    return SenderView(
        id=row["id"],
        partner_id=row["partner"],
        channel=row["channel"],
        name=row["name"],
        status=row["status"],
        created_at=row["created_at"],
        valid_until=valid_until,
        days_left=None if valid_until is None else (valid_until - today()).days,
    )


def check_name(name: str) -> None:
    if not (_ALPHANUMERIC.match(name) or _NUMERIC.match(name)):
        raise InvalidInput(N_("A sender ID has up to 11 letters and digits, or up to 15 digits"), field="name")


async def list_senders(actor: Actor, partner_id: int) -> list[SenderView]:
    where = await of_visible_partner(actor, Sender, partner_id)
    rows = await Sender.select().where(where).order_by(Sender.channel).order_by(Sender.name)
    return [sender_view(r) for r in rows]


async def enabled_senders(actor: Actor, channel: str | None = None) -> list[SenderView]:
    """The acting partner's usable sender IDs (SID-3), for pickers in the portal."""
    where = owned(Sender, actor) & usable()
    if channel:
        where &= Sender.channel == channel
    return [sender_view(r) for r in await Sender.select().where(where).order_by(Sender.name)]


async def create_sender(actor: Actor, partner_id: int, data: SenderCreate, *, ip: str = "") -> SenderView:
    partner = await visible_partner(actor, partner_id)  # a foreign id is a missing id, before any role check
    require_owner(actor, "set sender IDs", hidden=False)
    if data.channel not in registries().channels:
        raise InvalidInput(f"Unknown channel {data.channel!r}", field="channel")
    check_name(data.name)
    async with write_transaction():
        if await Sender.exists().where(
            (Sender.partner == partner_id) & (Sender.channel == data.channel) & (Sender.name == data.name)
        ):
            raise Conflict(f"{partner['name']} already has the {data.channel} sender ID {data.name!r}", field="name")
        row = Sender(
            partner=partner_id, channel=data.channel, name=data.name, status=data.status, created_at=datetime.now(UTC)
        )
        await row.save()
        await audit.record(
            actor,
            "sender.create",
            f"Added {data.channel} sender ID {data.name!r} for {partner['name']}",
            object_type="sender",
            object_id=row.id,
            ip=ip,
            name=data.name,
            params={"channel": data.channel, "partner": partner["name"]},
        )
    return sender_view(must_exist(await Sender.select().where(Sender.id == row.id).first()))


async def _visible(actor: Actor, sender_id: int) -> dict[str, Any]:
    row = (
        await Sender.select(*Sender.all_columns(), Sender.partner.path.as_alias("path"))
        .where((Sender.id == sender_id) & in_subtree(actor, Sender.partner.path))
        .first()
    )
    if row is None:
        raise NotFound("Sender ID")
    return row


async def get_sender(actor: Actor, sender_id: int) -> SenderView:
    return sender_view(await _visible(actor, sender_id))


async def _refuse_if_requested(row: dict[str, Any]) -> None:
    """A waiting sender reserved by an open request changes only through that request's decision."""
    if row["status"] != "waiting":
        return
    if await chain.requests_about(REQUEST_KIND, row["partner"], "sender_id", row["id"], OPEN_REQUEST_STATUSES):
        raise Conflict(
            f"Sender ID {row['name']!r} waits for its request: confirm or decline the request in Requests",
            field="status",
        )


async def update_sender(actor: Actor, sender_id: int, data: SenderUpdate, *, ip: str = "") -> SenderView:
    """Enable or disable a sender ID, or set the last day it may be used (the owner, SID-2). A changed validity
    shows on the partner's confirmed request as "Period changed"."""
    row = await _visible(actor, sender_id)
    require_owner(actor, "set sender IDs", hidden=False)
    await _refuse_if_requested(row)
    updates: dict[Any, Any] = {}
    if data.status is not UNSET:
        updates[Sender.status] = data.status
    if data.valid_until is not UNSET:
        updates[Sender.valid_until] = data.valid_until
    if not updates:
        raise InvalidInput(N_("Give a status or a last day of validity"), field="status")
    before = sender_view(row)
    async with write_transaction():
        await Sender.update(updates).where(Sender.id == sender_id)
        after = sender_view(must_exist(await Sender.select().where(Sender.id == sender_id).first()))
        if after.valid_until != before.valid_until:
            await chain.follow_up(REQUEST_KIND, row["partner"], "sender_id", sender_id, "period")
        await audit.record(
            actor,
            "sender.update",
            f"Set sender ID {row['name']!r} to {after.status}, valid until {after.valid_until or 'no end'}",
            object_type="sender",
            object_id=sender_id,
            ip=ip,
            name=row["name"],
            changed=audit.changes(
                {"status": audit.label(before.status.title()), "valid_until": audit.day(before.valid_until)},
                {"status": audit.label(after.status.title()), "valid_until": audit.day(after.valid_until)},
            ),
        )
    return after


async def expire_senders() -> int:
    """Switch off the enabled sender IDs whose last day has passed, their requests becoming "Unsubscribed"
    (SID-2); how many. A periodic job: ``usable()`` already refuses them from the first day after."""
    async with write_transaction():
        rows = (
            await Sender.update({Sender.status: "disabled"})
            .where((Sender.status == "enabled") & (Sender.valid_until < today()))
            .returning(Sender.id, Sender.partner)
        )
        for r in rows:
            await chain.follow_up(REQUEST_KIND, r["partner"], "sender_id", r["id"], "unsubscribed")
    return len(rows)


async def delete_sender(actor: Actor, sender_id: int, *, ip: str = "") -> None:
    row = await _visible(actor, sender_id)
    require_owner(actor, "set sender IDs", hidden=False)
    await _refuse_if_requested(row)
    async with write_transaction():
        await Sender.delete().where(Sender.id == sender_id)
        await audit.record(
            actor,
            "sender.delete",
            f"Removed sender ID {row['name']!r}",
            object_type="sender",
            object_id=sender_id,
            ip=ip,
            name=row["name"],
        )
