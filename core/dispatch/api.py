"""REST API of vendor connections: the owner binds channels to vendors (host, credentials, throughput…)."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.dispatch import connections
from core.dispatch.connections import ConnectionIn, ConnectionView
from core.web.params import PathId
from core.web.shell import client_ip


class VendorConnectionsApi(Controller):
    path = "/api/admin/vendor-connections"
    guards = [manager_guard]
    tags = ["Admin"]

    @get("/")
    async def list_connections(self, actor: NamedDependency[Actor]) -> list[ConnectionView]:
        return await connections.list_connections(actor)

    @post("/", status_code=201)
    async def create(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[ConnectionIn]
    ) -> ConnectionView:
        return await connections.create_connection(actor, data, ip=client_ip(request))

    @get("/{connection_id:int}")
    async def get_connection(self, actor: NamedDependency[Actor], connection_id: PathId) -> ConnectionView:
        return await connections.get_connection(actor, connection_id)

    @put("/{connection_id:int}")
    async def update(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        connection_id: PathId,
        data: JSONBody[ConnectionIn],
    ) -> ConnectionView:
        return await connections.update_connection(actor, connection_id, data, ip=client_ip(request))

    @delete("/{connection_id:int}", status_code=204)
    async def remove(self, request: Request, actor: NamedDependency[Actor], connection_id: PathId) -> None:
        await connections.delete_connection(actor, connection_id, ip=client_ip(request))
