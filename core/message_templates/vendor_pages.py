"""WhatsApp templates page (CHN-3): the vendor templates with their verdicts, a form submitting a new one, and
deleting one (warned first when campaigns send it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from core.actor import Actor
from core.errors import PortalError, ProviderError
from core.message_templates import vendor
from core.message_templates.vendor_schemas import VendorTemplateCreate
from core.web.forms import convert
from core.web.i18n import N_
from core.web.params import PathId
from core.web.shell import client_ip, page

CATEGORIES = {"utility": N_("Utility"), "marketing": N_("Marketing"), "authentication": N_("Authentication")}
HEADER_KINDS = {
    "": N_("No header"),
    "text": N_("Text"),
    "image": N_("Image"),
    "video": N_("Video"),
    "document": N_("Document"),
    "location": N_("Location"),
}
BUTTON_KINDS = {"quick_reply": N_("Quick reply"), "url": N_("Link"), "phone_number": N_("Phone number")}
STATUS_LABELS = {"pending": N_("Pending"), "approved": N_("Approved"), "rejected": N_("Rejected")}
MAX_BUTTONS = 10


class VendorTemplatePages(Controller):
    path = "/templates/whatsapp"
    include_in_schema = False

    @get("/")
    async def list_vendor_templates(
        self, request: Request, actor: NamedDependency[Actor], status: FromQuery[str] = ""
    ) -> Response:
        return await self._list(request, actor, status)

    async def _list(
        self, request: Request, actor: Actor, status: str = "", *, error: str = "", status_code: int = 200
    ) -> Response:
        status = status if status in vendor.STATUSES else ""
        return await page(
            request,
            actor,
            "message_templates/vendor_list.html",
            {
                "templates": await vendor.list_vendor_templates(actor, "whatsapp", status),
                "status": status,
                "status_labels": STATUS_LABELS,
                "categories": CATEGORIES,
                "header_kinds": HEADER_KINDS,
                "button_kinds": BUTTON_KINDS | {"copy_code": N_("Copy code")},
                "done": str(request.query_params.get("done") or ""),
                "query": urlencode({"status": status} if status else {}),
                "error": error,
            },
            status_code=status_code,
        )

    @post("/{vendor_template_id:int}/delete")
    async def delete(self, request: Request, actor: NamedDependency[Actor], vendor_template_id: PathId) -> Response:
        """Delete, from WhatsApp too; while campaigns send the template, name them (and ask again when they are
        only scheduled)."""
        portal = request.app.state.portal
        force = bool((await request.form()).get("force"))
        try:
            await vendor.delete_vendor_template(portal, actor, vendor_template_id, force=force, ip=client_ip(request))
        except ProviderError as exc:
            return await self._list(request, actor, error=exc.detail, status_code=exc.status_code)
        except PortalError as exc:
            if exc.field not in ("force", "vendor_template_id"):
                raise
            return await page(
                request,
                actor,
                "message_templates/vendor_delete.html",
                {
                    "template": await vendor.get_vendor_template(actor, vendor_template_id),
                    "users": await vendor.vendor_template_users(actor, vendor_template_id),
                },
                status_code=exc.status_code,
            )
        return Redirect("/templates/whatsapp?done=deleted")

    async def _form(
        self,
        request: Request,
        actor: Actor,
        values: dict[str, Any],
        *,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "message_templates/vendor_form.html",
            {
                "values": values,
                "categories": CATEGORIES,
                "header_kinds": HEADER_KINDS,
                "button_kinds": BUTTON_KINDS,
                "max_buttons": MAX_BUTTONS,
                "auth_body": vendor.auth_body(bool(values.get("add_security_recommendation"))),
                "auth_footer": vendor.AUTH_FOOTER,
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/new")
    async def new(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        values = {"language": "en_US", "category": "utility", "buttons": [], "copy_code": vendor.COPY_CODE}
        return await self._form(request, actor, values)

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        """Submit for approval; the Add a button, Remove and Show its fields buttons redraw the form instead,
        keeping what was typed."""
        form = await request.form()
        values = _typed(form)
        command = str(form.get("command") or "")
        if command == "add" and len(values["buttons"]) < MAX_BUTTONS:
            values["buttons"].append({"kind": "quick_reply", "text": "", "url": "", "phone_number": ""})
        if command.startswith("remove-") and command[7:].isdigit():
            del values["buttons"][int(command[7:]) : int(command[7:]) + 1]
        if command:
            return await self._form(request, actor, values)
        try:
            data = convert(_submission(values), VendorTemplateCreate)
            created = await vendor.create_vendor_template(request.app.state.portal, actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request, actor, values, error=exc.detail, field=exc.field, status_code=exc.status_code
            )
        return Redirect(f"/templates/whatsapp?done=created&id={created.id}")


def _typed(form: Any) -> dict[str, Any]:
    """What the user typed, to draw the form again: the buttons are rows ``buttons.N.kind`` … numbered from 0."""
    values: dict[str, Any] = {
        key: str(form.get(key) or "")
        for key in ("name", "language", "category", "body", "header.kind", "header.text", "header.url", "footer")
    }
    rows = str(form.get("button_rows") or "")
    count = min(int(rows), MAX_BUTTONS) if rows.isdigit() else 0
    values["buttons"] = [
        {key: str(form.get(f"buttons.{n}.{key}") or "") for key in ("kind", "text", "url", "phone_number")}
        for n in range(count)
    ]
    values["add_security_recommendation"] = bool(form.get("add_security_recommendation"))
    values["code_expiration_minutes"] = str(form.get("code_expiration_minutes") or "").strip()
    values["copy_code"] = str(form.get("copy_code") if "copy_code" in form else vendor.COPY_CODE)
    return values


def _submission(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the API's body: an authentication template sends its options and button caption,
    not a text, as its form shows; the others their body and parts."""
    data: dict[str, Any] = {key: values[key] for key in ("name", "language", "category")}
    if values["category"] == "authentication":
        minutes = values["code_expiration_minutes"]
        data["add_security_recommendation"] = values["add_security_recommendation"]
        data["code_expiration_minutes"] = (int(minutes) if minutes.isdigit() else minutes) or None
        data["buttons"] = [{"kind": "copy_code", "text": values["copy_code"]}]
    else:
        data["body"] = values["body"]
        kind = values["header.kind"]
        # Only the chosen kind's field is sent: a text typed before switching to an image is left behind.
        if kind:
            data["header"] = {
                "kind": kind,
                "text": values["header.text"] if kind == "text" else "",
                "url": values["header.url"] if kind in ("image", "video", "document") else "",
            }
        data["footer"] = values["footer"]
        data["buttons"] = values["buttons"]
    return data
