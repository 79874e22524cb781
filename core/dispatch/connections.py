"""Vendor connections: the owner configures them per channel; channel plugins read the enabled ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.db import json_value, write_transaction
from core.dispatch.tables import VendorConnection as ConnectionRow
from core.errors import Conflict, InvalidInput, NotFound
from core.plugins import registries
from core.providers import VendorConnection
from core.tenancy import audit
from core.tenancy.scope import require_owner


class ConnectionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    channel: Annotated[str, Meta(min_length=1, max_length=40)]
    name: Annotated[str, Meta(min_length=1, max_length=80)]
    settings: dict[str, Any] = {}
    enabled: bool = True


class ConnectionView(msgspec.Struct, kw_only=True):
    id: int
    channel: str
    name: str
    settings: dict[str, Any]
    enabled: bool
    created_at: datetime


def _view(row: dict[str, Any]) -> ConnectionView:
    return ConnectionView(
        id=row["id"],
        channel=row["channel"],
        name=row["name"],
        settings=json_value(row["settings"]) or {},
        enabled=row["enabled"],
        created_at=row["created_at"],
    )


def checked_settings(channel: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as the channel's plugin defines them, defaults filled in.

    Raises:
        InvalidInput: unknown channel, or a setting of the wrong type or out of range (the message names it).
    """
    provider = registries().channels.get(channel)
    if provider is None:
        raise InvalidInput(f"Unknown channel {channel!r}", field="channel")
    try:
        value = msgspec.convert(settings, provider.settings_type, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"Invalid setting: {exc}", field="settings") from exc
    return msgspec.to_builtins(value)


async def enabled_connections(channel: str) -> list[VendorConnection]:
    """What a channel plugin binds to (system use, no actor: the worker asks for its own channel)."""
    rows = (
        await ConnectionRow.select()
        .where(
            (ConnectionRow.channel == channel) & (ConnectionRow.enabled == True)  # noqa: E712
        )
        .order_by(ConnectionRow.id)
    )
    return [
        VendorConnection(id=r["id"], channel=r["channel"], name=r["name"], settings=json_value(r["settings"]) or {})
        for r in rows
    ]


async def list_connections(actor: Actor) -> list[ConnectionView]:
    require_owner(actor, "manage vendor connections")
    rows = await ConnectionRow.select().order_by(ConnectionRow.channel).order_by(ConnectionRow.name)
    return [_view(r) for r in rows]


async def _own(actor: Actor, connection_id: int) -> dict[str, Any]:
    require_owner(actor, "manage vendor connections")
    row = await ConnectionRow.select().where(ConnectionRow.id == connection_id).first()
    if row is None:
        raise NotFound("Vendor connection")
    return row


async def get_connection(actor: Actor, connection_id: int) -> ConnectionView:
    return _view(await _own(actor, connection_id))


async def _name_taken(name: str, but: int | None = None) -> bool:
    where: Combinable = ConnectionRow.name == name
    if but is not None:
        where &= ConnectionRow.id != but
    return await ConnectionRow.exists().where(where)


async def create_connection(actor: Actor, data: ConnectionIn, *, ip: str = "") -> ConnectionView:
    require_owner(actor, "manage vendor connections")
    settings = checked_settings(data.channel, data.settings)
    name = data.name.strip()
    async with write_transaction():
        if await _name_taken(name):
            raise Conflict("A vendor connection with this name exists", field="name")
        rows = await ConnectionRow.insert(
            ConnectionRow(
                channel=data.channel,
                name=name,
                settings=settings,
                enabled=data.enabled,
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        ).returning(*ConnectionRow.all_columns())
        await audit.record(
            actor,
            "vendor_connection.create",
            f"Vendor connection {name} ({data.channel})",
            object_type="vendor_connection",
            object_id=rows[0]["id"],
            ip=ip,
            name=name,
            params={"channel": data.channel},
        )
    return _view(rows[0])


async def update_connection(actor: Actor, connection_id: int, data: ConnectionIn, *, ip: str = "") -> ConnectionView:
    row = await _own(actor, connection_id)
    if data.channel != row["channel"]:
        raise InvalidInput("A connection's channel cannot change; create a new connection", field="channel")
    settings = checked_settings(data.channel, data.settings)
    name = data.name.strip()
    async with write_transaction():
        if await _name_taken(name, but=connection_id):
            raise Conflict("A vendor connection with this name exists", field="name")
        rows = (
            await ConnectionRow.update(
                {
                    ConnectionRow.name: name,
                    ConnectionRow.settings: settings,
                    ConnectionRow.enabled: data.enabled,
                    ConnectionRow.updated_at: datetime.now(UTC),
                }
            )
            .where(ConnectionRow.id == connection_id)
            .returning(*ConnectionRow.all_columns())
        )
        await audit.record(
            actor,
            "vendor_connection.update",
            f"Vendor connection {name}",
            object_type="vendor_connection",
            object_id=connection_id,
            ip=ip,
            name=row["name"],
            changed=audit.changes(
                {"name": row["name"], "enabled": row["enabled"]}, {"name": name, "enabled": data.enabled}
            ),
        )
    return _view(rows[0])


async def delete_connection(actor: Actor, connection_id: int, *, ip: str = "") -> None:
    row = await _own(actor, connection_id)
    async with write_transaction():
        await ConnectionRow.delete().where(ConnectionRow.id == connection_id)
        await audit.record(
            actor,
            "vendor_connection.delete",
            f"Vendor connection {row['name']}",
            object_type="vendor_connection",
            object_id=connection_id,
            ip=ip,
            name=row["name"],
        )
