"""Contacts to XLSX (issue 4, item 5): constant memory, batches by id, spreadsheet formulas neutralised."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from core.actor import Actor
from core.contacts.fields import list_fields
from core.contacts.schemas import ContactView, FieldView
from core.contacts.services import contact_views
from core.contacts.tables import Contact
from core.web.spreadsheets import XlsxBook
from core.web.templating import format_datetime

BATCH = 5_000
SYSTEM_HEADERS = (
    "Phone",
    "Groups",
    "First name",
    "Last name",
    "Date of birth",
    "Gender",
    "Comments",
    "Blocked sender IDs",
    "Created",
    "Last updated",
    "Created by",
)


def _cells(contact: ContactView, fields: list[FieldView], actor: Actor) -> list[str]:
    blocked = "All" if contact.blocked_all else ", ".join(s.name for s in contact.blocked_senders)
    custom = [contact.custom.get(f.variable) for f in fields]
    return [
        contact.phone,
        ", ".join(g.name for g in contact.groups),
        contact.first_name,
        contact.last_name,
        contact.birth_date.isoformat() if contact.birth_date else "",
        contact.gender,
        contact.comments,
        blocked,
        format_datetime(contact.created_at, actor),
        format_datetime(contact.updated_at, actor),
        contact.created_by,
        *("" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in custom),
    ]


async def export_contacts(actor: Actor, where: Any) -> Path:
    """Write every contact matching ``where`` (a condition from contact_where/selected_where) to a temporary XLSX.

    The caller serves the file and deletes it. The database is read in batches of 5,000 by id and each batch is
    written in a worker thread, so neither memory nor the event loop grows with the number of contacts.
    """
    fields = await list_fields(actor)
    handle, name = tempfile.mkstemp(prefix="contacts-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    headers = [*SYSTEM_HEADERS, *(f.name for f in fields)]
    widths = [16, *[14] * (len(headers) - 1)]
    book = await asyncio.to_thread(XlsxBook, path, headers, "Contacts", widths)
    try:
        last = 0
        while True:
            rows = await Contact.select().where(where & (Contact.id > last)).order_by(Contact.id).limit(BATCH)
            if not rows:
                break
            last = rows[-1]["id"]
            views = await contact_views(rows)
            await asyncio.to_thread(book.write, [_cells(v, fields, actor) for v in views])
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return path
