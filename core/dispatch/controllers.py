"""Admin Panel pages of vendor connections: the owner lists them, adds one per vendor and edits its settings.

The settings form is drawn from the channel plugin's settings Struct, so a new channel plugin gets its page
without a template of its own.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.dispatch import connections
from core.dispatch.connections import ConnectionIn, ConnectionView
from core.errors import PortalError
from core.plugins import registries
from core.web.params import PathId
from core.web.shell import client_ip, page


def settings_fields(channel: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """One input per field of the channel's settings Struct: name, input type, current value, hint."""
    provider = registries().channels.get(channel)
    if provider is None:
        return []
    fields = []
    for info in msgspec.structs.fields(provider.settings_type):
        kind = getattr(info.type, "__origin__", info.type)
        metas = getattr(info.type, "__metadata__", ())
        hint = next((m.description for m in metas if isinstance(m, msgspec.Meta) and m.description), "")
        default = info.default if info.default is not msgspec.NODEFAULT else ""
        number = kind in (int, float)
        fields.append(
            {
                "name": info.name,
                "label": info.name.replace("_", " ").capitalize(),
                "type": "password" if info.name == "password" else ("number" if number else "text"),
                "step": "any" if kind is float else "1",
                "value": values.get(info.name, default),
                "hint": hint,
            }
        )
    return fields


def _settings_from_form(channel: str, form: Any) -> dict[str, Any]:
    """The form's settings fields, numbers as numbers; empty ones left to the Struct's defaults."""
    out: dict[str, Any] = {}
    for field in settings_fields(channel, {}):
        raw = str(form.get(f"settings.{field['name']}", "")).strip()
        if raw == "":
            continue
        if field["type"] == "number":
            try:
                out[field["name"]] = float(raw) if field["step"] == "any" else int(raw)
            except ValueError:
                out[field["name"]] = raw  # the Struct's check names the field and the reason
        else:
            out[field["name"]] = raw
    return out


class VendorPages(Controller):
    path = "/admin/vendors"
    guards = [manager_guard]
    include_in_schema = False

    async def _list(
        self,
        request: Request,
        actor: Actor,
        *,
        error: str = "",
        field: str | None = None,
        values: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "dispatch/vendors.html",
            {
                "items": await connections.list_connections(actor),
                "channels": [(p.name, p.label) for p in registries().channels],
                "error": error,
                "error_field": field,
                "values": values or {},
            },
            status_code=status_code,
        )

    async def _form(
        self,
        request: Request,
        actor: Actor,
        item: ConnectionView,
        *,
        error: str = "",
        field: str | None = None,
        values: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        current = values if values is not None else item.settings
        return await page(
            request,
            actor,
            "dispatch/vendor_form.html",
            {
                "item": item,
                "fields": settings_fields(item.channel, current),
                "name": (values or {}).get("__name", item.name),
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/")
    async def index(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._list(request, actor)

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        channel, name = str(form.get("channel", "")), str(form.get("name", "")).strip()
        try:
            made = await connections.create_connection(
                actor, ConnectionIn(channel=channel, name=name, enabled=False), ip=client_ip(request)
            )
        except PortalError as exc:
            return await self._list(
                request,
                actor,
                error=exc.detail,
                field=exc.field,
                values={"channel": channel, "name": name},
                status_code=exc.status_code,
            )
        except msgspec.ValidationError as exc:
            return await self._list(
                request, actor, error=str(exc), field="name", values={"channel": channel, "name": name}, status_code=400
            )
        return Redirect(f"/admin/vendors/{made.id}?created=1")

    @get("/{connection_id:int}")
    async def edit(self, request: Request, actor: NamedDependency[Actor], connection_id: PathId) -> Response:
        return await self._form(request, actor, await connections.get_connection(actor, connection_id))

    @post("/{connection_id:int}")
    async def update(self, request: Request, actor: NamedDependency[Actor], connection_id: PathId) -> Response:
        item = await connections.get_connection(actor, connection_id)
        form = await request.form()
        settings = _settings_from_form(item.channel, form)
        name = str(form.get("name", "")).strip()
        try:
            data = ConnectionIn(channel=item.channel, name=name, settings=settings, enabled=form.get("enabled") == "on")
            await connections.update_connection(actor, connection_id, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                item,
                error=exc.detail,
                field=exc.field,
                values={**settings, "__name": name},
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/vendors/{connection_id}?saved=1")

    @post("/{connection_id:int}/delete")
    async def remove(self, request: Request, actor: NamedDependency[Actor], connection_id: PathId) -> Response:
        await connections.delete_connection(actor, connection_id, ip=client_ip(request))
        return Redirect("/admin/vendors?deleted=1")
