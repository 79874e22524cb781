"""Contacts to XLSX (issue 4, item 5): constant memory, batches by id, spreadsheet formulas neutralised."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import xlsxwriter

from core.actor import Actor
from core.contacts.fields import list_fields
from core.contacts.schemas import ContactView, FieldView
from core.contacts.services import contact_views
from core.contacts.tables import Contact
from core.web.templating import format_datetime

BATCH = 5_000
SHEET_ROWS = 1_048_575  # Excel's limit is 1,048,576 rows a sheet; one is the header
# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


# A phone number such as "+49 (151) 123-45" starts like a formula but can call nothing: it is kept as written,
# so a refused row can be corrected and imported again.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 ().-]*")


def neutralise(text: str) -> str:
    """A leading apostrophe keeps a cell like '=HYPERLINK(…)' text when the file is opened or re-saved as CSV."""
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


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


class _Book:
    """An xlsxwriter workbook in constant-memory mode: rows go to disk as they come, in order."""

    def __init__(self, path: Path, headers: list[str]) -> None:
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.bold = self.workbook.add_format({"bold": True})
        self.headers = headers
        self.sheet: Any = None
        self.row = SHEET_ROWS
        self.sheets = 0

    def write(self, rows: list[list[str]]) -> None:
        for cells in rows:
            if self.row == SHEET_ROWS:
                self._new_sheet()
            self.row += 1
            for column, text in enumerate(cells):
                if text:
                    # write_string, never write(): a string must not turn into a formula or a number here either.
                    self.sheet.write_string(self.row, column, neutralise(text))

    def _new_sheet(self) -> None:
        self.sheets += 1
        self.sheet = self.workbook.add_worksheet("Contacts" if self.sheets == 1 else f"Contacts {self.sheets}")
        self.sheet.set_column(0, 0, 16)
        self.sheet.set_column(1, len(self.headers) - 1, 14)
        self.sheet.write_row(0, 0, [neutralise(h) for h in self.headers], self.bold)
        self.row = 0

    def close(self) -> None:
        if self.sheet is None:
            self._new_sheet()  # an export of nothing is still a workbook with its header
        self.workbook.close()


async def export_contacts(actor: Actor, where: Any) -> Path:
    """Write every contact matching ``where`` (a condition from contact_where/selected_where) to a temporary XLSX.

    The caller serves the file and deletes it. The database is read in batches of 5,000 by id and each batch is
    written in a worker thread, so neither memory nor the event loop grows with the number of contacts.
    """
    fields = await list_fields(actor)
    handle, name = tempfile.mkstemp(prefix="contacts-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    book = await asyncio.to_thread(_Book, path, [*SYSTEM_HEADERS, *(f.name for f in fields)])
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
