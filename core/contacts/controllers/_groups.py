"""Groups tab (CON-4): the list with counts, add/edit/delete, and moving, copying or removing a group's members."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from core.actor import Actor
from core.contacts import groups, services
from core.contacts.controllers._common import PER_PAGE_CHOICES, done_url, outcome, typed_values
from core.contacts.schemas import (
    ContactFilter,
    GroupAction,
    GroupActionKind,
    GroupIn,
    GroupUpdate,
    GroupView,
    Selection,
)
from core.errors import InvalidInput, PortalError
from core.web.forms import parse_form
from core.web.i18n import N_
from core.web.pagination import DEFAULT_PER_PAGE, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip, page

# Copying into a group adds the members there; moving leaves them in that group only (the service's "move").
MEMBER_ACTIONS: dict[str, GroupActionKind] = {"move": "move", "copy": "add", "remove": "remove"}


class GroupPages(Controller):
    path = "/contacts/groups"
    include_in_schema = False

    async def _list(
        self,
        request: Request,
        actor: Actor,
        *,
        q: str = "",
        page_no: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        per_page = per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE
        done, done_count = outcome(request.query_params)
        return await page(
            request,
            actor,
            "contacts/groups.html",
            {
                "result": await groups.list_groups(actor, query=q, page=page_no, per_page=per_page),
                "q": q,
                "per_page": per_page,
                "per_page_choices": PER_PAGE_CHOICES,
                "done": done,
                "done_count": done_count,
                "error": error,
            },
            status_code=status_code,
        )

    @get("/")
    async def list_groups(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        page_no: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Response:
        return await self._list(request, actor, q=q, page_no=page_no, per_page=per_page)

    async def _form(
        self,
        request: Request,
        actor: Actor,
        *,
        group: GroupView | None = None,
        values: dict[str, Any] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        shown = (
            values if values is not None else ({"name": group.name, "description": group.description} if group else {})
        )
        return await page(
            request,
            actor,
            "contacts/group_form.html",
            {"group": group, "values": shown, "error": error, "error_field": field},
            status_code=status_code,
        )

    @get("/new")
    async def new(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._form(request, actor)

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            await groups.create_group(actor, await parse_form(request, GroupIn), ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                values=typed_values(await request.form()),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(done_url("/contacts/groups", "created"))

    @get("/{group_id:int}")
    async def edit(self, request: Request, actor: NamedDependency[Actor], group_id: PathId) -> Response:
        return await self._form(request, actor, group=await groups.get_group(actor, group_id))

    @post("/{group_id:int}")
    async def update(self, request: Request, actor: NamedDependency[Actor], group_id: PathId) -> Response:
        group = await groups.get_group(actor, group_id)
        try:
            await groups.update_group(actor, group_id, await parse_form(request, GroupUpdate), ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                group=group,
                values=typed_values(await request.form()),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(done_url("/contacts/groups", "saved"))

    @post("/{group_id:int}/delete")
    async def delete(self, request: Request, actor: NamedDependency[Actor], group_id: PathId) -> Response:
        try:
            await groups.delete_group(actor, group_id, ip=client_ip(request))
        except PortalError as exc:
            # The refusal (members only in this group, a reply template using it) is shown above the list.
            return await self._list(request, actor, error=exc.detail, status_code=exc.status_code)
        return Redirect(done_url("/contacts/groups", "deleted"))

    # Members ----------------------------------------------------------------------------------------
    async def _members(
        self,
        request: Request,
        actor: Actor,
        group: GroupView,
        *,
        values: dict[str, Any] | None = None,
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "contacts/group_members.html",
            {
                "group": group,
                "others": [g for g in await groups.group_names(actor) if g.id != group.id],
                "values": values or {"action": request.query_params.get("action", "move")},
                "error": error,
            },
            status_code=status_code,
        )

    @get("/{group_id:int}/members")
    async def members(self, request: Request, actor: NamedDependency[Actor], group_id: PathId) -> Response:
        return await self._members(request, actor, await groups.get_group(actor, group_id))

    @post("/{group_id:int}/members")
    async def move_members(self, request: Request, actor: NamedDependency[Actor], group_id: PathId) -> Response:
        """Move, copy or remove every member of the group, through the contacts' group action."""
        group = await groups.get_group(actor, group_id)
        form = await request.form()
        action = str(form.get("action") or "")
        target = str(form.get("target_group") or "")
        try:
            if action not in MEMBER_ACTIONS:
                raise InvalidInput(N_("Choose an action"), field="action")
            if action != "remove" and not target.isdigit():
                raise InvalidInput(N_("Choose a group"), field="target_group")
            members = Selection(all_matching=True, filter=ContactFilter(group_id=group_id))
            data = GroupAction(
                selection=members,
                group_id=group_id if action == "remove" else int(target),
                action=MEMBER_ACTIONS[action],
            )
            count = await services.group_action(actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._members(
                request, actor, group, values=typed_values(form), error=exc.detail, status_code=exc.status_code
            )
        return Redirect(done_url("/contacts/groups", f"members_{action}", count))
