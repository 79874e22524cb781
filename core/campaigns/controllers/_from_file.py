"""Campaign from file (CMP-6): one page — setup, the uploaded file with its columns' roles, schedule, then details.

The file is kept on the server once uploaded (core.campaigns.from_file); the form carries its id and the roles
chosen for its columns, so "Campaign details" and "Create campaign" post the same small form again.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from core.actor import Actor
from core.campaigns import from_file, premoderation, services
from core.campaigns.controllers._common import ZONES, emails_of, send_at_of
from core.campaigns.schemas import CampaignCreate, FileUpload
from core.contacts.importing import UPLOAD_BODY_LIMIT, read_upload
from core.errors import InvalidInput, PortalError
from core.senders.services import enabled_senders
from core.tenancy.options import partner_options
from core.web.forms import convert
from core.web.shell import client_ip, page

KEYS = ("name", "channel", "sender_id", "text", "file", "send_mode", "send_date", "send_time", "timezone")


def _values(form: Any, actor: Actor) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": services.default_name(actor),
        "channel": "sms",
        "sender_id": "",
        "text": "",
        "file": "",
        "send_mode": "now",
        "send_date": "",
        "send_time": "",
        "timezone": actor.timezone or "UTC",
        "notify_emails": actor.email,
        "flash": False,
        "roles": [],
    }
    if form is not None:
        values |= {key: str(form.get(key) or "") for key in (*KEYS, "notify_emails") if key in form}
        values["flash"] = bool(form.get("flash"))
        values["roles"] = [str(r) for r in form.getall("role", [])]
    return values


def _data(values: dict[str, Any]) -> CampaignCreate:
    sender = str(values.get("sender_id") or "")
    if not sender.isdigit():
        raise InvalidInput("Choose a sender ID", field="sender_id")
    return convert(
        {
            "name": values["name"],
            "channel": values["channel"] or "sms",
            "sender_id": int(sender),
            "text": values["text"],
            "flash": values["flash"],
            "file": values["file"],
            "file_columns": values["roles"],
            "send_at": send_at_of(values),
            "timezone": values["timezone"] or "UTC",
            "notify_emails": emails_of(values["notify_emails"]),
        },
        CampaignCreate,
    )


class CampaignFromFile(Controller):
    path = "/campaigns/from-file"
    include_in_schema = False

    @get("/")
    async def start(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._render(request, actor, _values(None, actor))

    @get("/sample.csv", media_type="text/csv")
    async def sample(self, request: Request) -> Response:
        """The sample file of the chosen channel: destination, a text of its own (or none), a variable."""
        channel = "viber" if request.query_params.get("channel") == "viber" else "sms"
        return Response(
            from_file.sample_file(channel),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="campaign-from-file-{channel}.csv"'},
        )

    @post("/", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def submit(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        values = _values(form, actor)
        command = str(form.get("command") or "")
        portal = request.app.state.portal
        upload: FileUpload | None = None
        try:
            chosen = form.get("upload")
            if getattr(chosen, "filename", ""):
                # A new file replaces the one before; its columns get their suggested roles.
                name, content = await read_upload(chosen)
                upload = await from_file.store(actor, name, content, portal.settings.var_dir)
                values |= {"file": upload.file, "roles": [c.role for c in upload.columns]}
            elif values["file"]:
                upload = await from_file.describe(actor, values["file"], portal.settings.var_dir)
            if command in ("details", "create") and not values["file"]:
                raise InvalidInput("Choose a CSV, XLS or XLSX file", field="file")
            if command == "details":
                preview = await services.cost_preview(portal, actor, _data(values))
                return await self._render(request, actor, values, upload, preview=preview)
            if command == "create":
                created = await services.create_campaign(portal, actor, _data(values), ip=client_ip(request))
                done = "scheduled" if created.status == "scheduled" else "created"
                return Redirect(f"/campaigns?done={done}&id={created.id}")
        except PortalError as exc:
            return await self._render(
                request, actor, values, upload, error=exc.detail, field=exc.field, status_code=exc.status_code
            )
        return await self._render(request, actor, values, upload)

    async def _render(
        self,
        request: Request,
        actor: Actor,
        values: dict[str, Any],
        upload: FileUpload | None = None,
        *,
        preview: Any = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        portal = request.app.state.portal
        options = await partner_options(actor.partner_id)
        channels = [
            c
            for c in portal.registries.channels
            if not c.capabilities.templates and (not options.channels or c.name in options.channels)
        ]
        provider = portal.registries.channels.get(values["channel"] or "sms")
        if upload is not None:
            roles = values["roles"] or [c.role for c in upload.columns]
            values["roles"] = roles + [""] * (len(upload.columns) - len(roles))
        context = {
            "values": values,
            "upload": upload,
            "preview": preview,
            "error": error,
            "error_field": field,
            "channels": channels,
            "senders": await enabled_senders(actor, values["channel"] or "sms"),
            "may_flash": bool(provider and provider.capabilities.flash and options.flash_sms),
            "premoderated": await premoderation.premoderated(actor),
            "zones": ZONES,
            "utc": services.scheduled_instant(_data(values)) if preview is not None else None,
        }
        return await page(request, actor, "campaigns/from_file.html", context, status_code=status_code)
