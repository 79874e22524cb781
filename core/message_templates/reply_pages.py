"""Auto-replies page (TPL-4): the reply templates in a table, with create, edit and delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from core.actor import Actor
from core.contacts.groups import group_names
from core.errors import PortalError
from core.message_templates import replies
from core.message_templates.controllers import variable_choices
from core.message_templates.reply_schemas import ReplyCreate, ReplyFilter, ReplyUpdate, ReplyView
from core.web.forms import convert, parse_form
from core.web.i18n import N_
from core.web.pagination import PageNo
from core.web.params import PathId
from core.web.shell import client_ip, page

PER_PAGE = 24
FORM_FIELDS = ("name", "channel", "keywords", "priority", "text", "action", "group_id")
ACTIONS = {
    "none": N_("Nothing"),
    "unsubscribe": N_("Unsubscribe: block this sender ID for the contact"),
    "subscribe": N_("Subscribe: unblock this sender ID for the contact"),
}


class ReplyPages(Controller):
    path = "/templates/replies"
    include_in_schema = False

    @get("/")
    async def list_replies(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        page_no: PageNo = 1,
    ) -> Response:
        channels = replies.reply_channels()
        channel = channel if channel in {c.name for c in channels} else ""
        f = convert({"query": q.strip(), "channel": channel, "page": page_no, "per_page": PER_PAGE}, ReplyFilter)
        return await page(
            request,
            actor,
            "message_templates/replies.html",
            {
                "result": await replies.list_replies(actor, f),
                "q": q,
                "channel": channel,
                "channels": channels,
                "query": urlencode([(k, v) for k, v in (("q", q), ("channel", channel)) if v]),
                "actions": ACTIONS,
                "enabled": await replies.replies_enabled(actor),
                "done": str(request.query_params.get("done") or ""),
            },
        )

    async def _form(
        self,
        request: Request,
        actor: Actor,
        *,
        reply: ReplyView | None = None,
        values: dict[str, Any] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        if values is None:
            values = (
                {
                    "name": reply.name,
                    "channel": reply.channel,
                    "keywords": ", ".join(reply.keywords),
                    "priority": reply.priority,
                    "text": reply.text,
                    "action": reply.action,
                    "group_id": reply.group_id or "",
                }
                if reply
                else {}
            )
        return await page(
            request,
            actor,
            "message_templates/reply_form.html",
            {
                "reply": reply,
                "values": values,
                "channels": replies.reply_channels(),
                "groups": await group_names(actor),
                "actions": ACTIONS,
                "variables": await variable_choices(actor),
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/new")
    async def new(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._form(request, actor)

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            data = await parse_form(request, ReplyCreate, **await _optional_group(request))
            created = await replies.create_reply(actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                values=_typed(await request.form()),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/templates/replies?done=created&id={created.id}")

    @get("/{reply_id:int}")
    async def edit(self, request: Request, actor: NamedDependency[Actor], reply_id: PathId) -> Response:
        reply = await replies.get_reply(actor, reply_id)
        return await self._form(request, actor, reply=reply)

    @post("/{reply_id:int}")
    async def update(self, request: Request, actor: NamedDependency[Actor], reply_id: PathId) -> Response:
        reply = await replies.get_reply(actor, reply_id)
        try:
            typed = await parse_form(request, ReplyCreate, channel=reply.channel, **await _optional_group(request))
            data = ReplyUpdate(
                name=typed.name,
                keywords=typed.keywords,
                priority=typed.priority,
                text=typed.text,
                action=typed.action,
                group_id=typed.group_id,
            )
            await replies.update_reply(actor, reply_id, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                reply=reply,
                values=_typed(await request.form()) | {"channel": reply.channel},
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/templates/replies?done=saved&id={reply_id}")

    @post("/{reply_id:int}/delete")
    async def delete(self, request: Request, actor: NamedDependency[Actor], reply_id: PathId) -> Response:
        await replies.delete_reply(actor, reply_id, ip=client_ip(request))
        return Redirect("/templates/replies?done=deleted")


async def _optional_group(request: Request) -> dict[str, Any]:
    """ "No group" is an empty choice in the form, None in the struct."""
    return {"group_id": None} if not (await request.form()).get("group_id") else {}


def _typed(form: Any) -> dict[str, Any]:
    """What the user typed, to fill the form again after an error."""
    return {key: form.get(key) for key in FORM_FIELDS if key in form}
