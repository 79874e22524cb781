"""REST API of vendor templates (CHN-3): list, submit for approval, one, delete (API key or token)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from core.actor import Actor
from core.message_templates import vendor
from core.message_templates.vendor_schemas import VendorTemplateCreate, VendorTemplateView
from core.web.params import PathId
from core.web.shell import client_ip


class VendorTemplatesApi(Controller):
    path = "/api/vendor-templates"
    tags = ["Templates"]

    @get("/", summary="Your company's templates submitted to a vendor (WhatsApp), newest first")
    async def list_vendor_templates(
        self,
        actor: NamedDependency[Actor],
        channel: FromQuery[str] = "",
        status: Annotated[str, QueryParameter(description="pending, approved or rejected")] = "",
    ) -> list[VendorTemplateView]:
        return await vendor.list_vendor_templates(actor, channel, status)

    @post("/", status_code=201, summary="Submit a template for the vendor's approval; it starts pending")
    async def create(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[VendorTemplateCreate]
    ) -> VendorTemplateView:
        return await vendor.create_vendor_template(request.app.state.portal, actor, data, ip=client_ip(request))

    @get("/{vendor_template_id:int}")
    async def get_vendor_template(
        self, actor: NamedDependency[Actor], vendor_template_id: PathId
    ) -> VendorTemplateView:
        return await vendor.get_vendor_template(actor, vendor_template_id)

    @delete(
        "/{vendor_template_id:int}",
        status_code=204,
        summary="Delete a template, from the vendor's account too; admins only. 409 naming the campaigns still"
        " sending it, or the scheduled ones unless force=true",
    )
    async def remove(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        vendor_template_id: PathId,
        force: Annotated[
            bool, QueryParameter(description="Delete even though scheduled campaigns send it (they then fail)")
        ] = False,
    ) -> None:
        await vendor.delete_vendor_template(
            request.app.state.portal, actor, vendor_template_id, force=force, ip=client_ip(request)
        )
