"""Custom contact fields (CON-2): definitions per partner and the checking of their values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from msgspec import UNSET

from core.actor import Actor
from core.contacts.schemas import FieldIn, FieldUpdate, FieldView
from core.contacts.tables import ContactField
from core.db import json_value, must_exist, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.tenancy import audit
from core.tenancy.scope import owned, require_admin
from core.web.i18n import N_

# Columns every contact has; custom fields may not take their names.
SYSTEM_COLUMNS = (
    "phone",
    "groups",
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "comments",
    "blocked_senders",
    "created_at",
    "updated_at",
    "created_by",
)


def variable_of(name: str) -> str:
    """'Loyalty Level #2' → 'loyalty_level_2': lower case, no spaces or special characters."""
    variable = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40]
    return variable if variable[:1].isalpha() else f"f_{variable}"[:40]


def _view(row: dict[str, Any]) -> FieldView:
    return FieldView(
        id=row["id"],
        name=row["name"],
        variable=row["variable"],
        data_type=row["data_type"],
        required=row["required"],
        choices=list(json_value(row["choices"]) or []),
    )


async def list_fields(actor: Actor) -> list[FieldView]:
    rows = await ContactField.select().where(owned(ContactField, actor)).order_by(ContactField.id)
    return [_view(r) for r in rows]


async def variables(actor: Actor) -> set[str]:
    return {f.variable for f in await list_fields(actor)}


async def create_field(actor: Actor, data: FieldIn, *, ip: str = "") -> FieldView:
    variable = variable_of(data.name)
    if variable in SYSTEM_COLUMNS:
        raise Conflict(f"{data.name!r} is a built-in column", field="name")
    if data.data_type == "list" and not data.choices:
        raise InvalidInput(N_("A list field needs at least one choice"), field="choices")
    async with write_transaction():
        if await ContactField.exists().where(owned(ContactField, actor) & (ContactField.variable == variable)):
            raise Conflict(f"A field with the variable {{{variable}}} already exists", field="name")
        row = ContactField(
            partner=actor.partner_id,
            name=data.name,
            variable=variable,
            data_type=data.data_type,
            choices=data.choices if data.data_type == "list" else [],
            required=data.required,
            created_at=datetime.now(UTC),
        )
        await row.save()
        await audit.record(
            actor,
            "field.create",
            f"Created contact field {data.name!r}",
            object_type="field",
            object_id=row.id,
            ip=ip,
            name=data.name,
        )
    return _view(must_exist(await ContactField.select().where(ContactField.id == row.id).first()))


async def _own(actor: Actor, field_id: int) -> dict[str, Any]:
    row = await ContactField.select().where((ContactField.id == field_id) & owned(ContactField, actor)).first()
    if row is None:
        raise NotFound("Field")
    return row


async def update_field(actor: Actor, field_id: int, data: FieldUpdate, *, ip: str = "") -> FieldView:
    row = await _own(actor, field_id)
    changes: dict[Any, Any] = {}
    if data.name is not UNSET:
        changes[ContactField.name] = data.name
    if data.required is not UNSET:
        changes[ContactField.required] = data.required
    if changes:
        async with write_transaction():
            await ContactField.update(changes).where(ContactField.id == field_id)
            await audit.record(
                actor,
                "field.update",
                f"Changed contact field {row['name']!r}",
                object_type="field",
                object_id=field_id,
                ip=ip,
                name=row["name"],
                changed=audit.row_changes(row, changes),
            )
    return _view(must_exist(await ContactField.select().where(ContactField.id == field_id).first()))


async def delete_field(actor: Actor, field_id: int, *, ip: str = "") -> None:
    require_admin(actor, "delete fields")
    row = await _own(actor, field_id)
    async with write_transaction():
        await ContactField.delete().where(ContactField.id == field_id)
        await audit.record(
            actor,
            "field.delete",
            f"Deleted contact field {row['name']!r}",
            object_type="field",
            object_id=field_id,
            ip=ip,
            name=row["name"],
        )


def coerce(field: FieldView, value: Any) -> Any:
    """A raw value (form text, JSON, spreadsheet cell) → the field's type, or ValueError with the reason."""
    if value is None or value == "":
        return None
    if field.data_type == "number":
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            raise ValueError("not a number") from None
        return int(number) if number.is_integer() else number
    if field.data_type == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise ValueError("not a date (YYYY-MM-DD)") from None
    if field.data_type == "boolean":
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError("not yes/no")
    if field.data_type == "list":
        if str(value) not in field.choices:
            raise ValueError(f"must be one of {', '.join(field.choices)}")
        return str(value)
    return str(value)[:500]


async def check_custom(actor: Actor, values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate custom values against the partner's fields; unknown keys and missing required ones are errors."""
    fields = {f.variable: f for f in await list_fields(actor)}
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise InvalidInput(f"Unknown custom field {key!r}", field=f"custom.{key}")
        if isinstance(value, dict | list):
            # A JSON body may nest anything here; a custom field holds one value.
            raise InvalidInput(f"{fields[key].name}: one value, not a list or an object", field=f"custom.{key}")
        try:
            coerced = coerce(fields[key], value)
        except ValueError as exc:
            raise InvalidInput(f"{fields[key].name}: {exc}", field=f"custom.{key}") from None
        if coerced is not None:
            checked[key] = coerced
    if not partial:
        for field in fields.values():
            if field.required and field.variable not in checked:
                raise InvalidInput(f"{field.name} is required", field=f"custom.{field.variable}")
    return checked
