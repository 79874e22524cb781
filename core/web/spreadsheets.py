"""Spreadsheet exports: formula injection neutralised, XLSX in constant memory, CSV lines for streaming."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from litestar.background_tasks import BackgroundTask
from litestar.response import File

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_ROWS = 1_048_575  # Excel's limit is 1,048,576 rows a sheet; one is the header
# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A phone number such as "+49 (151) 123-45" or an amount such as "-1.50" starts like a formula but can call
# nothing: it is kept as written, so the cell still reads (and imports again) as the number it is.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 ().,-]*")


def neutralise(text: str) -> str:
    """A leading apostrophe keeps a cell like '=HYPERLINK(…)' text when the file is opened or re-saved as CSV."""
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_line(cells: Sequence[str]) -> str:
    """One CSV line (CRLF-terminated, as RFC 4180 has it) of neutralised cells."""
    out = io.StringIO()
    csv.writer(out).writerow([neutralise(c) for c in cells])
    return out.getvalue()


class XlsxBook:
    """An xlsxwriter workbook in constant-memory mode: rows go to disk as they come, a new sheet per Excel limit.

    Blocking: call its methods in a worker thread (``asyncio.to_thread``) from the event loop.
    """

    def __init__(self, path: Path, headers: Sequence[str], sheet_name: str, widths: Sequence[int] = ()) -> None:
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.bold = self.workbook.add_format({"bold": True})
        self.headers = list(headers)
        self.sheet_name = sheet_name
        self.widths = list(widths)
        self.sheet: Any = None
        self.row = SHEET_ROWS
        self.sheets = 0

    def write(self, rows: Sequence[Sequence[str]]) -> None:
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
        self.sheet = self.workbook.add_worksheet(
            self.sheet_name if self.sheets == 1 else f"{self.sheet_name} {self.sheets}"
        )
        for column, width in enumerate(self.widths):
            self.sheet.set_column(column, column, width)
        self.sheet.write_row(0, 0, [neutralise(h) for h in self.headers], self.bold)
        self.row = 0

    def close(self) -> None:
        if self.sheet is None:
            self._new_sheet()  # an export of nothing is still a workbook with its header
        self.workbook.close()


def xlsx_download(path: Path, name: str) -> File:
    """Serve a temporary workbook as ``<name>-<date>.xlsx``, then delete it."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return File(
        path=path,
        filename=f"{name}-{stamp}.xlsx",
        media_type=XLSX_TYPE,
        content_disposition_type="attachment",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
