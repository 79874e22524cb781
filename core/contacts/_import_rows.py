"""Rows of a contact file → values to stage: phone normalised, duplicates and bad values refused and reported."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import msgspec

from core.contacts.fields import coerce
from core.contacts.importing import Sheet
from core.contacts.schemas import FieldView
from core.numbering.normalise import InvalidNumber, normalise
from core.web.spreadsheets import neutralise
from core.web.templating import DATE_FORMATS

CHUNK_ROWS = 20_000
# Slots of a staged row: phone, then these fields (None = no value: keep what an existing contact has), then custom.
STAGED_FIELDS = ("first_name", "last_name", "birth_date", "gender", "comments")
_EXCEL_EPOCH = date(1899, 12, 30)
_GENDERS = {
    "f": "female",
    "female": "female",
    "w": "female",
    "woman": "female",
    "mujer": "female",
    "ж": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "hombre": "male",
    "м": "male",
    "o": "other",
    "other": "other",
}


def parse_birth_date(text: str, date_format: str) -> date:
    """ISO dates (with or without a time), the user's own date format, or an Excel day number."""
    value: date | None = None
    if len(text) >= 10 and text[4] == "-":
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(text[:10])
    elif text.isdigit() and len(text) <= 5:
        value = _EXCEL_EPOCH + timedelta(days=int(text))
    else:
        # The user's own format decides between DD/MM and MM/DD; the others are common enough to accept.
        for pattern in (DATE_FORMATS.get(date_format, "%d.%m.%Y"), "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d"):
            with contextlib.suppress(ValueError):
                value = datetime.strptime(text[:10], pattern).date()
                break
    if value is None:
        formats = "YYYY-MM-DD" if date_format in ("", "YYYY-MM-DD") else f"{date_format} or YYYY-MM-DD"
        raise ValueError(f"not a date ({formats})")
    if not date(1900, 1, 1) <= value <= datetime.now(UTC).date():
        raise ValueError("not a plausible date of birth")
    return value


def _text_of(limit: int) -> Callable[[str], str]:
    def check(text: str) -> str:
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        return text

    return check


def _gender(text: str) -> str:
    try:
        return _GENDERS[text.lower()]
    except KeyError:
        raise ValueError("gender must be female, male or other") from None


class InvalidRows:
    """The report of refused rows: a CSV with the row number, the column, the reason and the row as it was."""

    def __init__(self, path: Path, header: list[str] | None) -> None:
        self.path = path
        self.header = header
        self.count = 0
        self._file: TextIO | None = None
        self._writer: Any = None

    def add(self, row: int, column: str, reason: str, cells: list[str]) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file)
            original = self.header or [f"Column {i + 1}" for i in range(len(cells))]
            self._writer.writerow(["Row", "Column", "Reason", *map(neutralise, original)])
        # The file is opened in spreadsheets: a refused cell like "=HYPERLINK(…)" must stay text there.
        self._writer.writerow([row, neutralise(column), neutralise(reason), *map(neutralise, cells)])
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Stager:
    """Turns a sheet's rows into staged tuples, chunk by chunk, and reports the rows it refuses.

    A staged tuple is (phone, first_name, last_name, birth_date, gender, comments, custom JSON); None means the
    file has no value there. Duplicates of a phone (after normalisation) are refused; the first valid row wins.
    """

    def __init__(
        self,
        sheet: Sheet,
        mapping: dict[int, str],
        fields: list[FieldView],
        *,
        has_header: bool,
        date_format: str,
        invalid: InvalidRows,
    ) -> None:
        self.rows = sheet.rows
        self.estimated = max(1, sheet.estimated_rows - has_header)
        self.has_header = has_header
        self.invalid = invalid
        self.consumed = 0
        self.staged = 0
        self.row_no = 0
        self._seen: dict[str, int] = {}
        by_variable = {f"custom.{f.variable}": f for f in fields}
        self.phone_column = next(c for c, t in mapping.items() if t == "phone")
        converters: dict[str, Callable[[str], Any]] = {
            "first_name": _text_of(100),
            "last_name": _text_of(100),
            "comments": _text_of(2000),
            "gender": _gender,
            "birth_date": lambda text: parse_birth_date(text, date_format),
        }
        self.plain = [
            (column, STAGED_FIELDS.index(target) + 1, converters[target])
            for column, target in mapping.items()
            if target in converters
        ]
        self.custom = [(column, by_variable[t]) for column, t in mapping.items() if t in by_variable]
        self.header: list[str] | None = None

    def column_name(self, column: int) -> str:
        if self.header and column < len(self.header) and self.header[column].strip():
            return self.header[column].strip()
        return f"Column {column + 1}"

    def next_chunk(self) -> list[tuple[Any, ...]]:
        """Up to CHUNK_ROWS staged rows; an empty list at the end of the file."""
        chunk: list[tuple[Any, ...]] = []
        phone_column, plain, custom, seen = self.phone_column, self.plain, self.custom, self._seen
        for cells in self.rows:
            self.row_no += 1
            if self.header is None and self.has_header:
                if any(c.strip() for c in cells):  # the header is the first row that is not blank
                    self.header = self.invalid.header = cells
                continue
            raw = cells[phone_column] if phone_column < len(cells) else ""
            try:
                phone = normalise(raw)
            except InvalidNumber as exc:
                if raw.strip() or any(c.strip() for c in cells):
                    self.consumed += 1
                    self.invalid.add(self.row_no, self.column_name(phone_column), str(exc), cells)
                continue  # a blank row is no row
            self.consumed += 1
            if phone in seen:
                reason = f"duplicate of row {seen[phone]} (same number {phone})"
                self.invalid.add(self.row_no, self.column_name(phone_column), reason, cells)
                continue
            values: list[Any] = [phone, None, None, None, None, None, None]
            try:
                for column, slot, convert in plain:
                    text = cells[column].strip() if column < len(cells) else ""
                    if text:
                        values[slot] = convert(text)
                if custom:
                    extra = {}
                    for column, field in custom:
                        text = cells[column].strip() if column < len(cells) else ""
                        if not text:
                            if field.required:
                                raise ValueError(f"{field.name} is required")
                            continue
                        extra[field.variable] = coerce(field, text)
                    if extra:
                        values[6] = msgspec.json.encode(extra).decode()
            except ValueError as exc:
                # ``column`` is still the column whose value raised.
                self.invalid.add(self.row_no, self.column_name(column), str(exc), cells)
                continue
            seen[phone] = self.row_no
            chunk.append(tuple(values))
            if len(chunk) == CHUNK_ROWS:
                break
        self.staged += len(chunk)
        return chunk
