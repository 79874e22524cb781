"""Contact files (CON-6): size and type checks, CSV/XLS/XLSX read as text, the preview and the column mapping."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from core.contacts.schemas import FieldView, FileKind, ImportPreview
from core.errors import InvalidInput, PortalError
from core.numbering.normalise import InvalidNumber, normalise
from core.web.i18n import N_

MAX_FILE_BYTES = 10 * 1024 * 1024
# A 10 MB workbook of contacts unpacks to about 60 MB; far more than that is a zip bomb, not a contact list.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_PACKING_RATIO = 100
PREVIEW_ROWS = 10

_ZIP = b"PK\x03\x04"
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
_OTHER_TYPES = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)
_DELIMITERS = ",;\t|"

FIELD_LABELS = {
    "phone": N_("Phone"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "birth_date": N_("Date of birth"),
    "gender": N_("Gender"),
    "comments": N_("Comments"),
}
UNUSED = ("", "unused")

# Column titles people use, squeezed to lower-case letters and digits, → the field they mean.
_TITLES = {
    "phone": "phone",
    "phonenumber": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "mobilephone": "phone",
    "cell": "phone",
    "msisdn": "phone",
    "number": "phone",
    "telefono": "phone",
    "teléfono": "phone",
    "телефон": "phone",
    "firstname": "first_name",
    "first": "first_name",
    "givenname": "first_name",
    "name": "first_name",
    "nombre": "first_name",
    "имя": "first_name",
    "lastname": "last_name",
    "last": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "apellido": "last_name",
    "apellidos": "last_name",
    "фамилия": "last_name",
    "birthdate": "birth_date",
    "dateofbirth": "birth_date",
    "birthday": "birth_date",
    "dob": "birth_date",
    "fechadenacimiento": "birth_date",
    "датарождения": "birth_date",
    "gender": "gender",
    "sex": "gender",
    "sexo": "gender",
    "genero": "gender",
    "género": "gender",
    "пол": "gender",
    "comment": "comments",
    "comments": "comments",
    "note": "comments",
    "notes": "comments",
    "comentarios": "comments",
    "комментарий": "comments",
}


class FileTooLarge(PortalError):
    """The upload is over the size limit (413)."""

    status_code = 413


def too_large() -> FileTooLarge:
    return FileTooLarge("The file is larger than 10 MB; split it into smaller files", field="file")


# A request carrying an upload may be this large: the file and the form's other fields.
UPLOAD_BODY_LIMIT = MAX_FILE_BYTES + 1024 * 1024


async def read_upload(upload: Any) -> tuple[str, bytes]:
    """An uploaded file's name and bytes (a multipart field), refused over 10 MB without reading more than that."""
    if not getattr(upload, "filename", "") or not hasattr(upload, "read"):
        raise InvalidInput("Choose a CSV, XLS or XLSX file", field="file")
    data = await upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise too_large()
    return upload.filename, data


# Detection ----------------------------------------------------------------------------------------------------


# What an uploaded file is served back as: its real type, never one guessed from a name the user chose.
MEDIA_TYPES: dict[FileKind, str] = {
    "csv": "text/csv",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def kind_of(data: bytes) -> FileKind:
    """The type of a file already checked by ``detect_kind``, from its first bytes."""
    if data.startswith(_ZIP):
        return "xlsx"
    return "xls" if data.startswith(_OLE2) else "csv"


def detect_kind(data: bytes, filename: str) -> FileKind:
    """CSV, XLS or XLSX from the bytes themselves (magic numbers), whatever the file's name says.

    Raises:
        InvalidInput: empty, another type of file, a damaged workbook or a zip bomb.
        FileTooLarge: over 10 MB.
    """
    if not data.strip():
        raise InvalidInput("The file is empty", field="file")
    if len(data) > MAX_FILE_BYTES:
        raise too_large()
    if data.startswith(_ZIP):
        check_workbook_archive(data, filename)
    if data.startswith((_ZIP, _OLE2)):
        return kind_of(data)
    for magic, what in _OTHER_TYPES:
        if data.startswith(magic):
            raise InvalidInput(f"{filename} is {what}, not a CSV, XLS or XLSX file", field="file")
    if _binary(data[:8192]):
        raise InvalidInput(f"{filename} is not a CSV, XLS or XLSX file", field="file")
    return "csv"


def _binary(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return b"\x00" in head or controls > len(head) // 100


def check_workbook_archive(data: bytes, filename: str) -> None:
    """An XLSX is a zip archive: refuse one that is no workbook, or that unpacks to absurd sizes (a zip bomb)."""
    bomb = InvalidInput(
        f"{filename} unpacks to far more data than a contact list holds; it was refused as a possible zip bomb",
        field="file",
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        if "xl/workbook.xml" not in {m.filename for m in members}:
            raise InvalidInput(f"{filename} is a zip archive but not an Excel workbook", field="file")
        declared = sum(m.file_size for m in members)
        packed = max(1, sum(m.compress_size for m in members))
        if declared > MAX_UNPACKED_BYTES or (declared > MAX_FILE_BYTES and declared > MAX_PACKING_RATIO * packed):
            raise bomb
        # The sizes above are what the archive claims; unpack for real with a cap, so a lying header fails too.
        unpacked = 0
        for member in members:
            with archive.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    unpacked += len(chunk)
                    if unpacked > MAX_UNPACKED_BYTES:
                        raise bomb
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, EOFError, OSError):
        raise InvalidInput(
            f"{filename} is damaged or encrypted: it is not a readable XLSX file", field="file"
        ) from None


# Text files ---------------------------------------------------------------------------------------------------


@dataclass
class DecodedText:
    text: str
    encoding: str
    notice: str = ""


def decode_text(data: bytes) -> DecodedText:
    """Bytes of a CSV → text: UTF-16 or UTF-8 (with or without BOM), else Windows-1251/1252, line by line.

    Lines that are not UTF-8 in an otherwise UTF-8 file (a file pasted together from two sources) are read in
    the single-byte encoding that fits them; the notice says how many.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return DecodedText(data.decode("utf-16", errors="replace"), "UTF-16")
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return DecodedText(body.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    fallback = _single_byte_encoding(body)
    lines, foreign, utf8_non_ascii = [], 0, 0
    for line in body.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
            utf8_non_ascii += not line.isascii()
        except UnicodeDecodeError:
            lines.append(line.decode(fallback, errors="replace"))
            foreign += 1
    text = "\n".join(lines)
    label = {"cp1251": "Windows-1251", "cp1252": "Windows-1252", "latin-1": "ISO-8859-1"}[fallback]
    if utf8_non_ascii or body is not data:
        return DecodedText(text, "UTF-8", f"{foreign} line(s) were not UTF-8 and were read as {label}")
    return DecodedText(text, label)


def _single_byte_encoding(data: bytes) -> str:
    """Cyrillic text in Windows-1251 has runs of high bytes (whole words); Western text has lone accents."""
    high = [i for i, b in enumerate(data) if b >= 0x80]
    runs = sum(1 for i in high if (i + 1 < len(data) and data[i + 1] >= 0x80) or (i and data[i - 1] >= 0x80))
    candidates = ("cp1251", "cp1252") if runs * 2 > len(high) else ("cp1252", "cp1251")
    for encoding in candidates:
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def sniff_delimiter(text: str) -> str:
    """, ; tab or | — csv.Sniffer on the first lines, else the most frequent of them, else a comma."""
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        found = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found and found in _DELIMITERS:
        return found
    counts = {d: sample.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# Reading rows as text -------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text; whole numbers keep their digits (34612345678.0 → '34612345678')."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


@dataclass
class Sheet:
    """A file's rows as lists of text, and about how many there are (for progress)."""

    kind: FileKind
    rows: Iterator[list[str]]
    estimated_rows: int
    encoding: str = ""
    delimiter: str = ""
    notice: str = ""


def open_sheet(data: bytes, kind: FileKind) -> Sheet:
    """The first worksheet of a workbook, or the rows of a CSV file."""
    if kind == "csv":
        decoded = decode_text(data)
        delimiter = sniff_delimiter(decoded.text)
        reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=delimiter)
        estimate = decoded.text.count("\n") + (not decoded.text.endswith("\n"))
        return Sheet(kind, _csv_rows(reader), estimate, decoded.encoding, delimiter, decoded.notice)
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    except CalamineError as exc:
        raise InvalidInput(
            f"The {kind.upper()} file cannot be read ({exc}); it may be damaged or password-protected", field="file"
        ) from None
    return Sheet(kind, _sheet_rows(sheet.iter_rows()), sheet.height)


def _csv_rows(reader: Any) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise InvalidInput(f"Row {reader.line_num}: the CSV file is malformed ({exc})", field="file") from None


def _sheet_rows(rows: Iterator[list[Any]]) -> Iterator[list[str]]:
    for row in rows:
        yield [c if type(c) is str else cell_text(c) for c in row]


# Preview and mapping ----------------------------------------------------------------------------------------------


def _squeeze(title: str) -> str:
    return re.sub(r"[\W_]+", "", title.lower())


def _is_phone(text: str) -> bool:
    try:
        normalise(text)
    except InvalidNumber:
        return False
    return True


def build_preview(data: bytes, kind: FileKind, fields: list[FieldView]) -> ImportPreview:
    """The first rows, whether the first one is a header, and the mapping its titles (or contents) suggest."""
    sheet = open_sheet(data, kind)
    rows: list[list[str]] = []
    for cells in sheet.rows:
        if any(c.strip() for c in cells):
            rows.append([c.strip() for c in cells])
            if len(rows) == PREVIEW_ROWS:
                break
    if not rows:
        raise InvalidInput("The file has no rows", field="file")
    columns = max(len(r) for r in rows)
    rows = [r + [""] * (columns - len(r)) for r in rows]
    titles = {_squeeze(f.name): f"custom.{f.variable}" for f in fields} | {
        _squeeze(f.variable): f"custom.{f.variable}" for f in fields
    }
    titled = [_TITLES.get(_squeeze(c)) or titles.get(_squeeze(c)) for c in rows[0]]
    has_header = not any(_is_phone(c) for c in rows[0]) and (
        any(titled) or any(_is_phone(c) for r in rows[1:] for c in r)
    )
    suggested: dict[int, str] = {}
    if has_header:
        for column, target in enumerate(titled):
            if target and target not in suggested.values():
                suggested[column] = target
    if "phone" not in suggested.values():
        body = rows[1:] if has_header else rows
        scores = [sum(_is_phone(r[c]) for r in body) for c in range(columns)]
        best = max(range(columns), key=lambda c: scores[c])
        if scores[best] and best not in suggested:
            suggested[best] = "phone"
    return ImportPreview(
        kind=kind,
        encoding=sheet.encoding,
        delimiter=sheet.delimiter,
        notice=sheet.notice,
        columns=columns,
        rows=rows,
        has_header=has_header,
        suggested=dict(sorted(suggested.items())),
    )


def target_label(target: str, fields: list[FieldView]) -> str:
    if target in FIELD_LABELS:
        return FIELD_LABELS[target]
    return next((f.name for f in fields if f"custom.{f.variable}" == target), target)


def check_mapping(
    mapping: dict[int, str], columns: int, fields: list[FieldView], *, creates_contacts: bool
) -> dict[int, str]:
    """Column index → field with the unused columns dropped; every field at most once and Phone exactly once.

    Raises:
        InvalidInput: naming the column at fault (``field`` is ``mapping.<index>``).
    """
    known = set(FIELD_LABELS) | {f"custom.{f.variable}" for f in fields}
    used: dict[str, int] = {}
    for column in sorted(mapping):
        target = mapping[column].strip()
        if target in UNUSED:
            continue
        if not 0 <= column < columns:
            raise InvalidInput(f"Column {column + 1} is not in the file (it has {columns})", field=f"mapping.{column}")
        if target not in known:
            raise InvalidInput(f"Column {column + 1}: unknown field {target!r}", field=f"mapping.{column}")
        if target in used:
            raise InvalidInput(
                f"Column {column + 1} and column {used[target] + 1} are both mapped to"
                f" {target_label(target, fields)}; map each field once",
                field=f"mapping.{column}",
            )
        used[target] = column
    if "phone" not in used:
        raise InvalidInput("Map one column to Phone", field="mapping")
    if creates_contacts:
        for f in fields:
            if f.required and f"custom.{f.variable}" not in used:
                raise InvalidInput(f"{f.name} is required for new contacts: map a column to it", field="mapping")
    return {column: target for target, column in sorted(used.items(), key=lambda item: item[1])}
