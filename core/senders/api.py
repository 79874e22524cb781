"""REST API of sender IDs: the owner's list per partner, and each partner's own enabled ones."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.senders import services
from core.senders.schemas import SenderCreate, SenderUpdate, SenderView
from core.web.params import PathId
from core.web.shell import client_ip


class SendersAdminApi(Controller):
    path = "/api/admin"
    guards = [manager_guard]
    tags = ["Admin"]

    @get("/partners/{partner_id:int}/senders")
    async def list_senders(self, actor: NamedDependency[Actor], partner_id: PathId) -> list[SenderView]:
        return await services.list_senders(actor, partner_id)

    @post("/partners/{partner_id:int}/senders", status_code=201)
    async def create(
        self, request: Request, actor: NamedDependency[Actor], partner_id: PathId, data: JSONBody[SenderCreate]
    ) -> SenderView:
        return await services.create_sender(actor, partner_id, data, ip=client_ip(request))

    @patch("/senders/{sender_id:int}")
    async def update(
        self, request: Request, actor: NamedDependency[Actor], sender_id: PathId, data: JSONBody[SenderUpdate]
    ) -> SenderView:
        return await services.update_sender(actor, sender_id, data, ip=client_ip(request))

    @delete("/senders/{sender_id:int}", status_code=204)
    async def remove(self, request: Request, actor: NamedDependency[Actor], sender_id: PathId) -> None:
        await services.delete_sender(actor, sender_id, ip=client_ip(request))


class SendersApi(Controller):
    path = "/api/senders"
    tags = ["Sender IDs"]

    @get("/", summary="The caller's enabled sender IDs")
    async def enabled(self, actor: NamedDependency[Actor], channel: FromQuery[str] = "") -> list[SenderView]:
        return await services.enabled_senders(actor, channel or None)
