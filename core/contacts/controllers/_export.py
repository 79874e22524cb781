"""Export of contacts to XLSX: a selection or all matching the filter, a group, or the REST API's filter."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import File

from core.actor import Actor
from core.contacts import groups, services
from core.contacts.controllers._common import selection_of
from core.contacts.export import export_contacts
from core.contacts.fields import variables
from core.contacts.params import contact_filter
from core.contacts.schemas import ContactFilter
from core.web.params import PathId
from core.web.spreadsheets import XLSX_TYPE, xlsx_download


class ExportPages(Controller):
    path = "/contacts"
    include_in_schema = False

    @post("/export", status_code=200)
    async def export_selection(self, request: Request, actor: NamedDependency[Actor]) -> File:
        """The table's selection: repeated ``ids``, or ``all_matching=1`` with the table's filter fields."""
        where = await services.selected_where(actor, selection_of(await request.form()))
        return xlsx_download(await export_contacts(actor, where), "contacts")

    @get("/groups/{group_id:int}/export")
    async def export_group(self, actor: NamedDependency[Actor], group_id: PathId) -> File:
        group = await groups.get_group(actor, group_id)
        where = services.contact_where(actor, ContactFilter(group_id=group.id))
        return xlsx_download(await export_contacts(actor, where), "group")


class ExportApi(Controller):
    path = "/api/contacts"
    tags = ["Contacts"]

    @get(
        "/export",
        summary="Contacts matching the filter as XLSX (query parameters as in GET /api/contacts)",
        media_type=XLSX_TYPE,
    )
    async def export(self, request: Request, actor: NamedDependency[Actor]) -> File:
        where = services.contact_where(actor, contact_filter(request.query_params), await variables(actor))
        return xlsx_download(await export_contacts(actor, where), "contacts")
