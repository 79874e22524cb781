"""Templates page (TPL-5): tiles with previews, filter and search, create/edit/delete with a warning when in use."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from core.actor import Actor
from core.contacts.fields import list_fields
from core.errors import PortalError
from core.message_templates import premoderation, services
from core.message_templates.rendering import CONTACT_LABELS, CONTACT_VARIABLES, traffic_type
from core.message_templates.schemas import TemplateCreate, TemplateFilter, TemplateUpdate, TemplateView
from core.senders.services import enabled_senders
from core.web.forms import convert, parse_form
from core.web.pagination import PageNo
from core.web.params import PathId
from core.web.shell import client_ip, page

PER_PAGE_CHOICES = (12, 24, 48, 96)
FORM_FIELDS = ("name", "channel", "sender_id", "text", "flash", "image_url", "button_caption", "button_url")


async def variable_choices(actor: Actor) -> list[tuple[str, str, bool]]:
    """The variable buttons of a text: (variable, label, custom); a custom field's name is the user's own text,
    shown as is, the contact columns' labels are translated where shown."""
    fields = await list_fields(actor)
    return [(v, CONTACT_LABELS[v], False) for v in CONTACT_VARIABLES] + [(f.variable, f.name, True) for f in fields]


class TemplatePages(Controller):
    path = "/templates"
    include_in_schema = False

    @get("/")
    async def list_templates(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        page_no: PageNo = 1,
        per_page: FromQuery[int] = 24,
    ) -> Response:
        return await self._list(request, actor, q=q, channel=channel, page_no=page_no, per_page=per_page)

    async def _list(
        self,
        request: Request,
        actor: Actor,
        *,
        q: str = "",
        channel: str = "",
        page_no: int = 1,
        per_page: int = 24,
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        portal = request.app.state.portal
        channels = services.template_channels(portal)
        channel = channel if channel in {c.name for c in channels} else ""
        per_page = per_page if per_page in PER_PAGE_CHOICES else 24
        f = convert({"query": q.strip(), "channel": channel, "page": page_no, "per_page": per_page}, TemplateFilter)
        query = urlencode([(k, v) for k, v in (("q", q), ("channel", channel), ("per_page", str(per_page))) if v])
        return await page(
            request,
            actor,
            "message_templates/list.html",
            {
                "result": await services.list_templates(portal, actor, f),
                "status_labels": premoderation.STATUS_LABELS,
                "q": q,
                "channel": channel,
                "channels": channels,
                "per_page": per_page,
                "per_page_choices": PER_PAGE_CHOICES,
                "query": query,
                "done": str(request.query_params.get("done") or ""),
                "error": error,
            },
            status_code=status_code,
        )

    async def _form(
        self,
        request: Request,
        actor: Actor,
        *,
        template: TemplateView | None = None,
        values: dict[str, Any] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        portal = request.app.state.portal
        channels = services.template_channels(portal)
        if values is None:
            values = (
                {
                    "name": template.name,
                    "channel": template.channel,
                    "sender_id": str(template.sender_id or ""),
                    "text": template.text,
                    "flash": template.flash,
                    "image_url": template.image_url,
                    "button_caption": template.button_caption,
                    "button_url": template.button_url,
                }
                if template
                else {"channel": channels[0].name if channels else "sms"}
            )
        channel = str(values.get("channel") or "sms")
        provider = portal.registries.channels.get(channel)
        return await page(
            request,
            actor,
            "message_templates/form.html",
            {
                "template": template,
                "values": values,
                "channels": channels,
                "senders": await enabled_senders(actor, channel),
                "may_flash": await services.may_flash(portal, actor, channel),
                "may_image": bool(provider and provider.capabilities.images),
                "may_button": bool(provider and provider.capabilities.buttons),
                "traffic_type": traffic_type(values),
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
        """Create; the Switch channel button (pressed by the channel select) brings that channel's fields instead,
        keeping what was typed."""
        portal = request.app.state.portal
        form = await request.form()
        if form.get("command") == "channel":
            return await self._form(request, actor, values=_typed(form))
        try:
            created = await services.create_template(
                portal, actor, await parse_form(request, TemplateCreate), ip=client_ip(request)
            )
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                values=_typed(await request.form()),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/templates?done=created&id={created.id}")

    @get("/{template_id:int}")
    async def edit(self, request: Request, actor: NamedDependency[Actor], template_id: PathId) -> Response:
        template = await services.get_template(request.app.state.portal, actor, template_id)
        return await self._form(request, actor, template=template)

    @post("/{template_id:int}")
    async def update(self, request: Request, actor: NamedDependency[Actor], template_id: PathId) -> Response:
        portal = request.app.state.portal
        template = await services.get_template(portal, actor, template_id)
        try:
            typed = await parse_form(request, TemplateCreate, channel=template.channel)
            data = TemplateUpdate(
                name=typed.name,
                sender_id=typed.sender_id,
                text=typed.text,
                flash=typed.flash,
                image_url=typed.image_url,
                button_caption=typed.button_caption,
                button_url=typed.button_url,
            )
            await services.update_template(portal, actor, template_id, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                template=template,
                values=_typed(await request.form()) | {"channel": template.channel},
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/templates?done=saved&id={template_id}")

    @post("/{template_id:int}/delete")
    async def delete(self, request: Request, actor: NamedDependency[Actor], template_id: PathId) -> Response:
        """Delete; while scheduled campaigns use the template, show them and ask again (TPL-5)."""
        portal = request.app.state.portal
        form = await request.form()
        force = bool(form.get("force"))
        try:
            await services.delete_template(actor, template_id, force=force, ip=client_ip(request))
        except PortalError as exc:
            if exc.field != "force":
                raise
            return await page(
                request,
                actor,
                "message_templates/delete.html",
                {
                    "template": await services.get_template(portal, actor, template_id),
                    "users": await services.template_users(actor, template_id),
                },
                status_code=exc.status_code,
            )
        return Redirect("/templates?done=deleted")


def _typed(form: Any) -> dict[str, Any]:
    """What the user typed, to fill the form again after an error."""
    return {key: form.get(key) for key in FORM_FIELDS if key in form} | {"flash": "flash" in form}
