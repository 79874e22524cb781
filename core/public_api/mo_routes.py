"""Callback Settings (MO-4, guide 13.2): the default MO URL, a URL per sender ID, and the secret that signs them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core.accounts.api_keys import CallbackSecret, new_callback_secret
from core.accounts.callback_urls import check_callback_url
from core.actor import Actor
from core.db import write_transaction
from core.dispatch.tables import MoRoute
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.senders.tables import Sender
from core.tenancy import audit
from core.tenancy.options import partner_options
from core.tenancy.schemas import Url
from core.tenancy.scope import owned, require_admin


class MoRouteView(msgspec.Struct, kw_only=True):
    id: int
    sender: str
    url: str


class CallbackSettingsView(msgspec.Struct, kw_only=True):
    """Where MO messages go: ``default_url`` unless the sender ID they were sent to has a route of its own."""

    mo_enabled: bool
    default_url: str
    routes: list[MoRouteView]


class DefaultMoUrlIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    default_url: Url


class MoRouteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sender: Annotated[str, Meta(min_length=1, max_length=15)]
    url: Annotated[str, Meta(min_length=1, max_length=300, pattern=r"^https?://\S+$")]


class MoRouteUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, Meta(min_length=1, max_length=300, pattern=r"^https?://\S+$")]


async def _require_mo(actor: Actor) -> None:
    if not (await partner_options(actor.partner_id)).mo_enabled:
        raise Forbidden("MO messages are off for your company: ask your provider to turn them on")


async def get_settings(actor: Actor) -> CallbackSettingsView:
    require_admin(actor, "change Callback Settings")
    rows = await MoRoute.select().where(owned(MoRoute, actor)).order_by(MoRoute.sender)
    default = next((r["url"] for r in rows if r["sender"] == ""), "")
    return CallbackSettingsView(
        mo_enabled=(await partner_options(actor.partner_id)).mo_enabled,
        default_url=default,
        routes=[MoRouteView(id=r["id"], sender=r["sender"], url=r["url"]) for r in rows if r["sender"]],
    )


async def _ensure_default(actor: Actor, now: datetime) -> None:
    """The default row holds the signing secret, so it exists as soon as any route does."""
    if not await MoRoute.exists().where(owned(MoRoute, actor) & (MoRoute.sender == "")):
        await MoRoute.insert(
            MoRoute(
                partner=actor.partner_id,
                sender="",
                slot=f"{actor.partner_id}:",
                url="",
                secret=new_callback_secret(),
                created_at=now,
                updated_at=now,
            )
        )


async def set_default_url(
    actor: Actor, data: DefaultMoUrlIn, *, allow_private: bool = False, ip: str = ""
) -> CallbackSettingsView:
    require_admin(actor, "change Callback Settings")
    await _require_mo(actor)
    if data.default_url:
        await check_callback_url(data.default_url, allow_private=allow_private, field="default_url")
    now = datetime.now(UTC)
    async with write_transaction():
        await _ensure_default(actor, now)
        old = await MoRoute.select(MoRoute.url).where(owned(MoRoute, actor) & (MoRoute.sender == "")).first()
        await MoRoute.update({MoRoute.url: data.default_url, MoRoute.updated_at: now}).where(
            owned(MoRoute, actor) & (MoRoute.sender == "")
        )
        await audit.record(
            actor,
            "mo_route.default",
            f"Set the default MO URL to {data.default_url or 'none'}",
            object_type="partner",
            object_id=actor.partner_id,
            ip=ip,
            changed=audit.changes({"default_url": old["url"] if old else ""}, {"default_url": data.default_url}),
        )
    return await get_settings(actor)


async def add_route(actor: Actor, data: MoRouteIn, *, allow_private: bool = False, ip: str = "") -> MoRouteView:
    require_admin(actor, "change Callback Settings")
    await _require_mo(actor)
    if not await Sender.exists().where(owned(Sender, actor) & (Sender.name == data.sender)):
        raise InvalidInput(f"{data.sender!r} is not one of your sender IDs", field="sender")
    await check_callback_url(data.url, allow_private=allow_private, field="url")
    now = datetime.now(UTC)
    async with write_transaction():
        if await MoRoute.exists().where(owned(MoRoute, actor) & (MoRoute.sender == data.sender)):
            raise Conflict(f"The sender ID {data.sender} already has a URL: edit it instead", field="sender")
        await _ensure_default(actor, now)
        row = MoRoute(
            partner=actor.partner_id,
            sender=data.sender,
            slot=f"{actor.partner_id}:{data.sender}",
            url=data.url,
            created_at=now,
            updated_at=now,
        )
        await row.save()
        await audit.record(
            actor,
            "mo_route.create",
            f"MO of {data.sender} go to {data.url}",
            object_type="mo_route",
            object_id=row.id,
            ip=ip,
            name=data.sender,
            params={"url": data.url},
        )
    return MoRouteView(id=row.id, sender=data.sender, url=data.url)


async def _own_route(actor: Actor, route_id: int) -> dict[str, Any]:
    require_admin(actor, "change Callback Settings")
    row = (
        await MoRoute.select().where((MoRoute.id == route_id) & owned(MoRoute, actor) & (MoRoute.sender != "")).first()
    )
    if row is None:
        raise NotFound("MO route")
    return row


async def update_route(
    actor: Actor, route_id: int, data: MoRouteUpdate, *, allow_private: bool = False, ip: str = ""
) -> MoRouteView:
    row = await _own_route(actor, route_id)
    await _require_mo(actor)
    await check_callback_url(data.url, allow_private=allow_private, field="url")
    async with write_transaction():
        await MoRoute.update({MoRoute.url: data.url, MoRoute.updated_at: datetime.now(UTC)}).where(
            MoRoute.id == route_id
        )
        await audit.record(
            actor,
            "mo_route.update",
            f"MO of {row['sender']} go to {data.url}",
            object_type="mo_route",
            object_id=route_id,
            ip=ip,
            name=row["sender"],
            changed=audit.changes({"url": row["url"]}, {"url": data.url}),
        )
    return MoRouteView(id=route_id, sender=row["sender"], url=data.url)


async def delete_route(actor: Actor, route_id: int, *, ip: str = "") -> None:
    row = await _own_route(actor, route_id)
    async with write_transaction():
        await MoRoute.delete().where(MoRoute.id == route_id)
        await audit.record(
            actor,
            "mo_route.delete",
            f"MO of {row['sender']} go to the default URL again",
            object_type="mo_route",
            object_id=route_id,
            ip=ip,
            name=row["sender"],
        )


async def rotate_secret(actor: Actor, *, ip: str = "") -> CallbackSecret:
    """A new secret for the partner's MO callbacks, shown only in this answer."""
    require_admin(actor, "change Callback Settings")
    await _require_mo(actor)
    secret = new_callback_secret()
    now = datetime.now(UTC)
    async with write_transaction():
        await _ensure_default(actor, now)
        await MoRoute.update({MoRoute.secret: secret, MoRoute.updated_at: now}).where(
            owned(MoRoute, actor) & (MoRoute.sender == "")
        )
        await audit.record(
            actor,
            "mo_route.rotate_secret",
            "Rotated the MO callback secret",
            object_type="partner",
            object_id=actor.partner_id,
            ip=ip,
        )
    return CallbackSecret(callback_secret=secret)
