"""Contacts tab (CON-1…3): the table, the add/edit form, actions on a selection, table settings and fields."""

from __future__ import annotations

from typing import Any, get_args

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect
from markupsafe import escape

from core.actor import Actor
from core.contacts import fields, groups, services, stoplist, table_settings
from core.contacts.controllers._common import (
    PER_PAGE_CHOICES,
    SORTABLE,
    back_url,
    client_query,
    done_url,
    filter_pairs,
    is_filtered,
    linker,
    outcome,
    page_window,
    selection_of,
    typed_values,
)
from core.contacts.params import contact_filter
from core.contacts.schemas import (
    ContactFilter,
    ContactIn,
    ContactUpdate,
    ContactView,
    DataType,
    FieldIn,
    FieldUpdate,
    GroupAction,
    GroupActionKind,
    Selection,
    StopListChange,
)
from core.errors import InvalidInput, PortalError
from core.senders.services import list_senders
from core.web.forms import convert, parse_form
from core.web.i18n import N_
from core.web.params import PathId
from core.web.shell import client_ip, page

BULK_ACTIONS = ("delete", "add", "remove", "move", "block", "unblock")
_CONTACT_LISTS = ("groups", "blocked_senders")


async def contacts_table(
    request: Request, actor: Actor, template: str, path: str, *, pinned: str = "", **forced: Any
) -> Response:
    """A contacts list (Contacts or Stop List tab): the filter from the query, the user's columns, one page.

    ``pinned`` is a column the tab always shows, second, whatever the table settings say.
    """
    error, status_code = "", 200
    try:
        f = msgspec.structs.replace(contact_filter(request.query_params), **forced)
        result = await services.list_contacts(actor, f)
    except PortalError as exc:
        # A filter that does not parse shows the whole list with the reason, instead of an error page.
        error, status_code = exc.detail, exc.status_code
        f = ContactFilter(**forced)
        result = await services.list_contacts(actor, f)
    custom_fields = await fields.list_fields(actor)
    columns = [c.key for c in await table_settings.get_columns(actor, table_settings.CONTACTS) if c.visible]
    if pinned:
        columns = [key for key in columns if key != pinned]
        columns.insert(min(1, len(columns)), pinned)
    done, done_count = outcome(request.query_params)
    return await page(
        request,
        actor,
        template,
        {
            "result": result,
            "f": f,
            "url": linker(path, f),
            "path": path,
            "hidden_filter": filter_pairs(f),
            "filtered": is_filtered(f),
            # "More filters" opens by itself when one of its fields is in use.
            "more_filtered": is_filtered(f, besides=("phone", "group_id")),
            "columns": columns,
            "fields_by_key": {field.variable: field for field in custom_fields},
            "custom_fields": custom_fields,
            "sortable": SORTABLE,
            "per_page_choices": PER_PAGE_CHOICES,
            "page_window": page_window,
            "groups": await groups.group_names(actor),
            "senders": await list_senders(actor, actor.partner_id),
            "back": client_query(request),
            "done": done,
            "done_count": done_count,
            "error": error,
        },
        status_code=status_code,
    )


def _contact_values(contact: ContactView) -> dict[str, Any]:
    """A contact as the form's values, in the shape a browser posts them."""
    values: dict[str, Any] = {
        "phone": contact.phone,
        "groups": [str(g.id) for g in contact.groups],
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "birth_date": contact.birth_date.isoformat() if contact.birth_date else "",
        "gender": contact.gender,
        "comments": contact.comments,
        "blocked_senders": [str(s.id) for s in contact.blocked_senders],
        "blocked_all": contact.blocked_all,
    }
    for key, value in contact.custom.items():
        values[f"custom.{key}"] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return values


async def _custom_values(request: Request) -> dict[str, Any]:
    """The form's ``custom.<variable>`` inputs; empty ones are sent too, so that clearing a value works."""
    form = await request.form()
    return {key.removeprefix("custom."): form.get(key) for key in form if key.startswith("custom.")}


def _chosen_group(form: Any) -> int:
    value = str(form.get("target_group") or "")
    if not value.isdigit():
        raise InvalidInput(N_("Choose a group"), field="target_group")
    return int(value)


_GROUP_ACTIONS: dict[str, GroupActionKind] = {"add": "add", "remove": "remove", "move": "move"}


async def _run_bulk(actor: Actor, action: str, selection: Selection, form: Any, ip: str) -> int:
    """One action on the selected contacts, through the service that owns its rules."""
    if action == "delete":
        return await services.delete_contacts(actor, selection, ip=ip)
    if action in _GROUP_ACTIONS:
        data = GroupAction(selection=selection, group_id=_chosen_group(form), action=_GROUP_ACTIONS[action])
        return await services.group_action(actor, data, ip=ip)
    change = StopListChange(
        selection=selection,
        sender_ids=convert(form.getall("sender_ids", []), list[int]),
        all_senders="all_senders" in form,
    )
    return await (stoplist.block if action == "block" else stoplist.unblock)(actor, change, ip=ip)


class ContactPages(Controller):
    path = "/contacts"
    include_in_schema = False

    @get("/")
    async def table(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await contacts_table(request, actor, "contacts/list.html", "/contacts")

    # Add and edit ---------------------------------------------------------------------------------
    async def _form(
        self,
        request: Request,
        actor: Actor,
        *,
        contact: ContactView | None = None,
        values: dict[str, Any] | None = None,
        back: str = "/contacts",
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "contacts/form.html",
            {
                "contact": contact,
                "values": values if values is not None else (_contact_values(contact) if contact else {}),
                "groups": await groups.group_names(actor),
                "senders": await list_senders(actor, actor.partner_id),
                "custom_fields": await fields.list_fields(actor),
                "back": back,
                "error": error,
                "error_field": field,
            },
            status_code=status_code,
        )

    @get("/new")
    async def new(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._form(request, actor, back=back_url(request.query_params))

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            data = await parse_form(request, ContactIn, custom=await _custom_values(request))
            await services.create_contact(actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                values=typed_values(form, _CONTACT_LISTS),
                back=back_url(form),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(done_url(back_url(form), "created"))

    @get("/{contact_id:int}")
    async def edit(self, request: Request, actor: NamedDependency[Actor], contact_id: PathId) -> Response:
        contact = await services.get_contact(actor, contact_id)
        return await self._form(request, actor, contact=contact, back=back_url(request.query_params))

    @post("/{contact_id:int}")
    async def update(self, request: Request, actor: NamedDependency[Actor], contact_id: PathId) -> Response:
        contact = await services.get_contact(actor, contact_id)
        form = await request.form()
        try:
            data = await parse_form(request, ContactUpdate, custom=await _custom_values(request))
            await services.update_contact(actor, contact_id, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                contact=contact,
                values=typed_values(form, _CONTACT_LISTS),
                back=back_url(form),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(done_url(back_url(form), "saved"))

    # Actions on a selection -----------------------------------------------------------------------
    async def _bulk_form(
        self, request: Request, actor: Actor, params: Any, *, error: str = "", status_code: int = 200
    ) -> Response:
        """The confirmation of an action, with its choices (group, sender IDs) and the selection kept hidden."""
        action = str(params.get("action") or "")
        if action not in BULK_ACTIONS:
            raise InvalidInput(N_("Choose an action"), field="action")
        selection = selection_of(params)
        single = None
        if len(selection.ids) == 1 and not selection.all_matching:
            single = await services.get_contact(actor, selection.ids[0])
        if selection.all_matching:
            count = (await services.list_contacts(actor, msgspec.structs.replace(selection.filter, per_page=1))).total
        else:
            count = len(set(selection.ids))
        return await page(
            request,
            actor,
            "contacts/bulk.html",
            {
                "action": action,
                "selection": selection,
                "hidden_filter": filter_pairs(selection.filter) if selection.all_matching else [],
                "count": count,
                "single": single,
                "groups": await groups.group_names(actor),
                "senders": await list_senders(actor, actor.partner_id),
                "back": back_url(params),
                "values": typed_values(params, ("sender_ids",)) if error else {},
                "error": error,
            },
            status_code=status_code,
        )

    @get("/bulk")
    async def bulk_form(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._bulk_form(request, actor, request.query_params)

    @post("/bulk")
    async def bulk(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        """The table's action bar posts here to confirm; the confirmation (``confirm`` set) runs the action."""
        form = await request.form()
        if "confirm" not in form:
            return await self._bulk_form(request, actor, form)
        action = str(form.get("action") or "")
        try:
            if action not in BULK_ACTIONS:
                raise InvalidInput(N_("Choose an action"), field="action")
            count = await _run_bulk(actor, action, selection_of(form), form, client_ip(request))
        except PortalError as exc:
            return await self._bulk_form(request, actor, form, error=exc.detail, status_code=exc.status_code)
        return Redirect(done_url(back_url(form), action, count))

    # Table settings and custom fields -------------------------------------------------------------
    async def _settings(
        self,
        request: Request,
        actor: Actor,
        *,
        error: str = "",
        error_form: str = "",
        field: str | None = None,
        values: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        custom_fields = await fields.list_fields(actor)
        done, _count = outcome(request.query_params)
        return await page(
            request,
            actor,
            "contacts/settings.html",
            {
                "columns": await table_settings.get_columns(actor, table_settings.CONTACTS),
                "custom_fields": custom_fields,
                "fields_by_key": {f.variable: f for f in custom_fields},
                "data_types": get_args(DataType),
                "done": done,
                "error": error,
                "error_form": error_form,
                "error_field": field,
                "values": values or {},
            },
            status_code=status_code,
        )

    @get("/settings")
    async def settings(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._settings(request, actor)

    @post("/settings")
    async def save_settings(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        """Column order and visibility; the ↑/↓ buttons (for use without drag and drop) move one column first."""
        form = await request.form()
        try:
            await table_settings.save_columns(actor, table_settings.CONTACTS, table_settings.columns_from_form(form))
        except PortalError as exc:
            return await self._settings(
                request, actor, error=exc.detail, error_form="columns", status_code=exc.status_code
            )
        return Redirect("/contacts/settings?done=columns")

    @get("/fields/variable")
    async def variable(self, name: FromQuery[str] = "") -> Response:
        """The variable a field name gives, shown live while typing (the service's own derivation)."""
        shown = f"{{{fields.variable_of(name)}}}" if name.strip() else ""
        return Response(str(escape(shown)), media_type=MediaType.HTML)

    @post("/fields")
    async def create_field(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            await fields.create_field(actor, await parse_form(request, FieldIn), ip=client_ip(request))
        except PortalError as exc:
            return await self._settings(
                request,
                actor,
                error=exc.detail,
                error_form="create",
                field=exc.field,
                values=typed_values(form),
                status_code=exc.status_code,
            )
        return Redirect("/contacts/settings?done=field_created")

    @post("/fields/{field_id:int}")
    async def update_field(self, request: Request, actor: NamedDependency[Actor], field_id: PathId) -> Response:
        try:
            await fields.update_field(actor, field_id, await parse_form(request, FieldUpdate), ip=client_ip(request))
        except PortalError as exc:
            return await self._settings(
                request, actor, error=exc.detail, error_form=f"field-{field_id}", status_code=exc.status_code
            )
        return Redirect("/contacts/settings?done=field_saved")

    @post("/fields/{field_id:int}/delete")
    async def delete_field(self, request: Request, actor: NamedDependency[Actor], field_id: PathId) -> Response:
        try:
            await fields.delete_field(actor, field_id, ip=client_ip(request))
        except PortalError as exc:
            return await self._settings(
                request, actor, error=exc.detail, error_form=f"field-{field_id}", status_code=exc.status_code
            )
        return Redirect("/contacts/settings?done=field_deleted")
