"""REST API of campaign templates (TPL-1, TPL-5): list, create, one, change and delete (API key or token)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from core.actor import Actor
from core.message_templates import services
from core.message_templates.schemas import TemplateCreate, TemplateFilter, TemplateUpdate, TemplateView
from core.web.forms import convert
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip


class TemplatesApi(Controller):
    path = "/api/templates"
    tags = ["Templates"]

    @get("/", summary="Your company's campaign templates, last changed first")
    async def list_templates(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: Annotated[str, QueryParameter(description="Part of the name")] = "",
        channel: FromQuery[str] = "",
        status: Annotated[str, QueryParameter(description="approved, waiting or declined (premoderation)")] = "",
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[TemplateView]:
        f = convert(
            {"query": q, "channel": channel, "status": status, "page": page, "per_page": per_page}, TemplateFilter
        )
        return await services.list_templates(request.app.state.portal, actor, f)

    @post(
        "/",
        status_code=201,
        summary="Create an SMS or Viber template: unique name, an enabled sender ID, text; Viber: image and button",
    )
    async def create(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[TemplateCreate]
    ) -> TemplateView:
        return await services.create_template(request.app.state.portal, actor, data, ip=client_ip(request))

    @get("/{template_id:int}")
    async def get_template(self, request: Request, actor: NamedDependency[Actor], template_id: PathId) -> TemplateView:
        return await services.get_template(request.app.state.portal, actor, template_id)

    @patch("/{template_id:int}")
    async def update(
        self, request: Request, actor: NamedDependency[Actor], template_id: PathId, data: JSONBody[TemplateUpdate]
    ) -> TemplateView:
        return await services.update_template(request.app.state.portal, actor, template_id, data, ip=client_ip(request))

    @delete(
        "/{template_id:int}",
        status_code=204,
        summary="Delete a template; 409 naming the scheduled campaigns that use it unless force=true",
    )
    async def remove(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        template_id: PathId,
        force: Annotated[bool, QueryParameter(description="Delete even though scheduled campaigns use it")] = False,
    ) -> None:
        await services.delete_template(actor, template_id, force=force, ip=client_ip(request))
