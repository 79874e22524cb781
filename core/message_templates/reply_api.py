"""REST API of reply templates (TPL-4): list, create, one, change and delete (API key or token)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from core.actor import Actor
from core.message_templates import replies
from core.message_templates.reply_schemas import ReplyCreate, ReplyFilter, ReplyUpdate, ReplyView
from core.web.forms import convert
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip


class RepliesApi(Controller):
    path = "/api/reply-templates"
    tags = ["Templates"]

    @get("/", summary="Your company's reply templates, highest priority first")
    async def list_replies(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: Annotated[str, QueryParameter(description="Part of the name or a keyword")] = "",
        channel: FromQuery[str] = "",
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[ReplyView]:
        f = convert({"query": q, "channel": channel, "page": page, "per_page": per_page}, ReplyFilter)
        return await replies.list_replies(actor, f)

    @post("/", status_code=201, summary="Create a reply template: name unique, keywords, priority, reply, action")
    async def create(self, request: Request, actor: NamedDependency[Actor], data: JSONBody[ReplyCreate]) -> ReplyView:
        return await replies.create_reply(actor, data, ip=client_ip(request))

    @get("/{reply_id:int}")
    async def get_reply(self, request: Request, actor: NamedDependency[Actor], reply_id: PathId) -> ReplyView:
        return await replies.get_reply(actor, reply_id)

    @patch("/{reply_id:int}")
    async def update(
        self, request: Request, actor: NamedDependency[Actor], reply_id: PathId, data: JSONBody[ReplyUpdate]
    ) -> ReplyView:
        return await replies.update_reply(actor, reply_id, data, ip=client_ip(request))

    @delete("/{reply_id:int}", status_code=204, summary="Delete a reply template")
    async def remove(self, request: Request, actor: NamedDependency[Actor], reply_id: PathId) -> None:
        await replies.delete_reply(actor, reply_id, ip=client_ip(request))
