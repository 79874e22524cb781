"""Per-user table settings (CON-2, CMP-2): the order and visibility of a table's columns, with defaults.

Contacts' table is known here; a table of a domain above (the campaigns list) registers its columns with
``register_table``, so one store and one set of rules serve every table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.actor import Actor
from core.contacts.fields import SYSTEM_COLUMNS, list_fields
from core.contacts.schemas import ColumnSetting
from core.contacts.tables import TableSetting
from core.db import json_value, write_transaction
from core.errors import InvalidInput, NotFound
from core.web.i18n import N_

CONTACTS = "contacts"

# The guide's default table: these system columns first and shown, the other system columns after them, hidden.
_LEADING = ("phone", "groups", "created_at", "updated_at", "created_by")
DEFAULT_VISIBLE = frozenset({"phone", "groups", "created_at", "updated_at", "first_name", "last_name"})
SYSTEM_ORDER = (*_LEADING, *(key for key in SYSTEM_COLUMNS if key not in _LEADING))


TableColumns = Callable[[Actor], Awaitable[list[ColumnSetting]]]


async def _contact_columns(actor: Actor) -> list[ColumnSetting]:
    """Contacts: the system columns, then the company's custom fields (new ones start visible)."""
    system = [ColumnSetting(key=key, visible=key in DEFAULT_VISIBLE) for key in SYSTEM_ORDER]
    return system + [ColumnSetting(key=field.variable) for field in await list_fields(actor)]


_TABLES: dict[str, TableColumns] = {CONTACTS: _contact_columns}


def register_table(table_name: str, columns: TableColumns) -> None:
    """Make ``table_name`` a table with settings; ``columns(actor)`` gives its columns in default order."""
    _TABLES[table_name] = columns


async def available_columns(actor: Actor, table_name: str) -> list[ColumnSetting]:
    """Every column the table can show, in default order and visibility."""
    columns = _TABLES.get(table_name)
    if columns is None:
        raise NotFound("Table")
    return await columns(actor)


async def get_columns(actor: Actor, table_name: str) -> list[ColumnSetting]:
    """The user's saved order and visibility; columns it never saw (a new custom field) follow with defaults."""
    available = {column.key: column for column in await available_columns(actor, table_name)}
    row = (
        await TableSetting.select(TableSetting.columns)
        .where((TableSetting.user == actor.user_id) & (TableSetting.table_name == table_name))
        .first()
    )
    columns: list[ColumnSetting] = []
    for entry in json_value(row["columns"]) if row else []:
        key = entry.get("key")
        # A deleted custom field may still be in the saved list; it is dropped here rather than on deletion.
        if key in available:
            columns.append(ColumnSetting(key=key, visible=bool(entry.get("visible"))))
            del available[key]
    return columns + list(available.values())


async def save_columns(actor: Actor, table_name: str, columns: list[ColumnSetting]) -> list[ColumnSetting]:
    """Store the user's order and visibility; every key must be a column of the table, each at most once."""
    known = {column.key for column in await available_columns(actor, table_name)}
    keys = [column.key for column in columns]
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise InvalidInput(f"Unknown column {unknown[0]!r}", field="columns")
    if len(set(keys)) != len(keys):
        raise InvalidInput(N_("Each column may appear only once"), field="columns")
    if not any(column.visible for column in columns):
        raise InvalidInput(N_("Keep at least one column visible"), field="columns")
    stored = [{"key": column.key, "visible": column.visible} for column in columns]
    where = (TableSetting.user == actor.user_id) & (TableSetting.table_name == table_name)
    async with write_transaction():
        if await TableSetting.exists().where(where):
            await TableSetting.update({TableSetting.columns: stored}).where(where)
        else:
            await TableSetting(user=actor.user_id, table_name=table_name, columns=stored).save()
    return await get_columns(actor, table_name)


def columns_from_form(form: Any) -> list[ColumnSetting]:
    """A settings form's columns: every key in the order posted, ticked ones visible; an ↑ or ↓ button (the way
    without drag and drop) moves its column one place first."""
    keys: list[str] = form.getall("columns", [])
    for direction, step in (("up", -1), ("down", 1)):
        key = form.get(direction)
        if key in keys and 0 <= keys.index(key) + step < len(keys):
            at = keys.index(key)
            keys[at], keys[at + step] = keys[at + step], keys[at]
    shown = set(form.getall("visible", []))
    return [ColumnSetting(key=key, visible=key in shown) for key in keys]
