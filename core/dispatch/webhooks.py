"""Vendor webhooks (`/hooks/<channel>/<connection id>`): status reports and inbound messages a channel's vendor
POSTs, and the GET handshake some vendors make first.

They belong to no tenant: served on any host name (the portal middleware lets `/hooks/` through without
resolving a portal), without sessions or CSRF. The connection in the path names the secret the channel verifies
the call with, and every report it carries is matched only among that connection's messages, whatever the body
claims: a vendor (or anyone holding one connection's secret) can never touch another connection's EDRs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath

from core.db import json_value
from core.dispatch.receipts import record_deliveries, record_inbound
from core.dispatch.tables import VendorConnection as ConnectionRow
from core.errors import PortalError, Unauthenticated
from core.message_templates.vendor import record_reviews
from core.metrics import WEBHOOKS_REFUSED
from core.portal import Portal
from core.providers import DeliveryReport, VendorConnection, WebhookChannel, WebhookHandshake, WebhookRequest
from core.web.params import PathId

PREFIX = "/hooks/"
GROUP_LIMIT = 1000  # reports recorded together at most


class _GroupCommit:
    """Reports of callbacks that arrive while a write is under way are recorded together, in one transaction, once
    it ends; each call is answered only after its own reports are committed.

    A vendor that calls back once per message (the Viber aggregators do) would otherwise cost a transaction per
    message. Two reports of one message (delivered, then seen) never share a write, so they apply in order.
    """

    def __init__(self, portal: Portal, channel: str) -> None:
        self.portal, self.channel = portal, channel
        self.waiting: list[tuple[Sequence[DeliveryReport], asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def record(self, reports: Sequence[DeliveryReport]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((reports, done))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())
        await asyncio.shield(done)  # a caller that goes away leaves its reports to be written all the same

    async def _write(self) -> None:
        while self.waiting:
            group: list[tuple[Sequence[DeliveryReport], asyncio.Future[None]]] = []
            keys: set[tuple[int | None, str]] = set()
            while self.waiting and len(keys) < GROUP_LIMIT:
                own = {(r.connection, r.vendor_message_id) for r in self.waiting[0][0]}
                if group and keys & own:
                    break
                group.append(self.waiting.pop(0))
                keys |= own
            try:
                await record_deliveries(self.portal, self.channel, [r for reports, _ in group for r in reports])
            except Exception as exc:  # every call of the group is refused; the vendor calls again
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in group:
                    if not done.done():
                        done.set_result(None)


def _group_commit(request: Request[Any, Any, Any], channel: str) -> _GroupCommit:
    portal: Portal = request.app.state.portal
    groups: dict[tuple[int, str], _GroupCommit] = request.app.state.setdefault("webhook_group_commits", {})
    group = groups.get((id(portal), channel))
    if group is None:
        group = groups[(id(portal), channel)] = _GroupCommit(portal, channel)
    return group


def _answer(status: int, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    # Plain JSON always: the caller is a vendor's server, never a person, and there is no portal to theme a page.
    return Response({"status_code": status, "detail": detail, **extra}, status_code=status, media_type=MediaType.JSON)


async def _connection(portal: Portal, channel: str, connection_id: int) -> tuple[Any, VendorConnection] | None:
    """The channel's provider and the connection, disabled ones included (their late reports still count)."""
    provider = portal.registries.channels.get(channel)
    if provider is None or not isinstance(provider, WebhookChannel):
        return None
    # Raw: building the ORM's select cost more CPU than recording the call's reports (one call per message).
    rows = await ConnectionRow.raw(
        "SELECT id, channel, name, settings FROM vendor_connection WHERE id = {}", connection_id
    )
    row = rows[0] if rows else None
    if row is None or row["channel"] != channel:
        return None
    connection = VendorConnection(
        id=row["id"], channel=row["channel"], name=row["name"], settings=json_value(row["settings"]) or {}
    )
    return provider, connection


async def _request(request: Request[Any, Any, Any]) -> WebhookRequest:
    return WebhookRequest(
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
        query={k: v for k, v in request.query_params.items()},
    )


@post(PREFIX + "{channel:str}/{connection_id:int}", include_in_schema=False, status_code=200)
async def vendor_callback(
    request: Request[Any, Any, Any], channel: FromPath[str], connection_id: PathId
) -> Response[dict[str, Any]]:
    """Verify the call with the connection's secret, then record its reports and inbound messages."""
    portal: Portal = request.app.state.portal
    found = await _connection(portal, channel, connection_id)
    if found is None:
        return _answer(404, "Vendor connection not found")
    provider, connection = found
    try:
        callback = provider.parse_callback(connection, await _request(request))
    except Unauthenticated as exc:
        WEBHOOKS_REFUSED.labels(channel=channel).inc()
        return _answer(401, exc.detail)
    except PortalError as exc:
        return _answer(400, exc.detail)
    # The path's connection, never one the body could name: reports match only this connection's messages.
    reports = [msgspec.structs.replace(r, connection=connection.id) for r in callback.reports]
    if reports:
        await _group_commit(request, channel).record(reports)
    if callback.inbound:
        await record_inbound(portal, callback.inbound)
    if callback.templates:  # verdicts on templates, likewise only those submitted through this connection
        await record_reviews(connection.id, callback.templates)
    return _answer(200, "OK", reports=len(reports), inbound=len(callback.inbound), templates=len(callback.templates))


@get(PREFIX + "{channel:str}/{connection_id:int}", include_in_schema=False, media_type=MediaType.TEXT)
async def vendor_handshake(
    request: Request[Any, Any, Any], channel: FromPath[str], connection_id: PathId
) -> Response[Any]:
    """Answer a vendor's verification GET (such as hub.challenge) for channels that have one."""
    portal: Portal = request.app.state.portal
    found = await _connection(portal, channel, connection_id)
    if found is None or not isinstance(found[0], WebhookHandshake):
        return _answer(404, "Vendor connection not found")
    provider, connection = found
    try:
        body = provider.answer_handshake(connection, await _request(request))
    except Unauthenticated as exc:
        WEBHOOKS_REFUSED.labels(channel=channel).inc()
        return _answer(403, exc.detail)
    return Response(body, media_type=MediaType.TEXT)


ROUTES = [vendor_callback, vendor_handshake]
