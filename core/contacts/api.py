"""REST API of the contacts workspace: contacts, groups, custom fields and the stop list (API key or token)."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody

from core.actor import Actor
from core.contacts import fields, groups, services, stoplist
from core.contacts.params import contact_filter
from core.contacts.schemas import (
    ContactIn,
    ContactUpdate,
    ContactView,
    FieldIn,
    FieldUpdate,
    FieldView,
    GroupAction,
    GroupIn,
    GroupUpdate,
    GroupView,
    Selection,
    StopListChange,
)
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip


class ContactsApi(Controller):
    path = "/api/contacts"
    tags = ["Contacts"]

    @get("/", summary="Contacts matching the filter (query parameters as in the table, custom.<variable>=…)")
    async def list_contacts(self, request: Request, actor: NamedDependency[Actor]) -> Page[ContactView]:
        return await services.list_contacts(actor, contact_filter(request.query_params))

    @post("/", status_code=201)
    async def create(self, request: Request, actor: NamedDependency[Actor], data: JSONBody[ContactIn]) -> ContactView:
        return await services.create_contact(actor, data, ip=client_ip(request))

    @get("/{contact_id:int}")
    async def get_contact(self, actor: NamedDependency[Actor], contact_id: PathId) -> ContactView:
        return await services.get_contact(actor, contact_id)

    @patch("/{contact_id:int}")
    async def update(
        self, request: Request, actor: NamedDependency[Actor], contact_id: PathId, data: JSONBody[ContactUpdate]
    ) -> ContactView:
        return await services.update_contact(actor, contact_id, data, ip=client_ip(request))

    @delete("/{contact_id:int}", status_code=204)
    async def remove(self, request: Request, actor: NamedDependency[Actor], contact_id: PathId) -> None:
        await services.delete_contacts(actor, Selection(ids=[contact_id]), ip=client_ip(request))

    @post("/delete", status_code=200, summary="Delete the selected contacts (ids, or all matching a filter)")
    async def remove_many(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[Selection]
    ) -> dict[str, int]:
        return {"deleted": await services.delete_contacts(actor, data, ip=client_ip(request))}

    @post("/group-action", status_code=200, summary="Add the selection to a group, remove it, or move it")
    async def group_action(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[GroupAction]
    ) -> dict[str, int]:
        return {"contacts": await services.group_action(actor, data, ip=client_ip(request))}


class GroupsApi(Controller):
    path = "/api/groups"
    tags = ["Contacts"]

    @get("/")
    async def list_groups(
        self,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[GroupView]:
        return await groups.list_groups(actor, query=q, page=page, per_page=per_page)

    @post("/", status_code=201)
    async def create(self, request: Request, actor: NamedDependency[Actor], data: JSONBody[GroupIn]) -> GroupView:
        return await groups.create_group(actor, data, ip=client_ip(request))

    @get("/{group_id:int}")
    async def get_group(self, actor: NamedDependency[Actor], group_id: PathId) -> GroupView:
        return await groups.get_group(actor, group_id)

    @patch("/{group_id:int}")
    async def update(
        self, request: Request, actor: NamedDependency[Actor], group_id: PathId, data: JSONBody[GroupUpdate]
    ) -> GroupView:
        return await groups.update_group(actor, group_id, data, ip=client_ip(request))

    @delete("/{group_id:int}", status_code=204)
    async def remove(self, request: Request, actor: NamedDependency[Actor], group_id: PathId) -> None:
        await groups.delete_group(actor, group_id, ip=client_ip(request))


class ContactFieldsApi(Controller):
    path = "/api/contact-fields"
    tags = ["Contacts"]

    @get("/")
    async def list_fields(self, actor: NamedDependency[Actor]) -> list[FieldView]:
        return await fields.list_fields(actor)

    @post("/", status_code=201)
    async def create(self, request: Request, actor: NamedDependency[Actor], data: JSONBody[FieldIn]) -> FieldView:
        return await fields.create_field(actor, data, ip=client_ip(request))

    @patch("/{field_id:int}")
    async def update(
        self, request: Request, actor: NamedDependency[Actor], field_id: PathId, data: JSONBody[FieldUpdate]
    ) -> FieldView:
        return await fields.update_field(actor, field_id, data, ip=client_ip(request))

    @delete("/{field_id:int}", status_code=204)
    async def remove(self, request: Request, actor: NamedDependency[Actor], field_id: PathId) -> None:
        await fields.delete_field(actor, field_id, ip=client_ip(request))


class StopListApi(Controller):
    path = "/api/stoplist"
    tags = ["Contacts"]

    @get("/", summary="Contacts with at least one blocked sender ID")
    async def list_blocked(self, request: Request, actor: NamedDependency[Actor]) -> Page[ContactView]:
        params = {**request.query_params, "blocked": "true"}
        return await services.list_contacts(actor, contact_filter(params))

    @post("/block", status_code=200, summary="Block sender IDs (or all) for the selection; merges with existing")
    async def block(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[StopListChange]
    ) -> dict[str, int]:
        return {"contacts": await stoplist.block(actor, data, ip=client_ip(request))}

    @post("/unblock", status_code=200)
    async def unblock(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[StopListChange]
    ) -> dict[str, int]:
        return {"contacts": await stoplist.unblock(actor, data, ip=client_ip(request))}
