"""Per-user table settings (CON-2): the order and visibility of a table's columns, with defaults."""

from __future__ import annotations

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


async def available_columns(actor: Actor, table_name: str) -> list[ColumnSetting]:
    """Every column the table can show, in default order and visibility; new custom fields start visible."""
    if table_name != CONTACTS:
        raise NotFound("Table")
    system = [ColumnSetting(key=key, visible=key in DEFAULT_VISIBLE) for key in SYSTEM_ORDER]
    return system + [ColumnSetting(key=field.variable) for field in await list_fields(actor)]


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
