"""Campaign from file (CMP-6): the uploaded file kept between steps, its columns' roles, its rows read as recipients.

The file is kept under var/campaign-files/<partner>/<random id>/ until the campaign is created from it, so neither
the form nor the API sends 10 MB twice; the partner in the path means another company's id finds nothing. Rows are
read with the contacts importer's readers, a chunk at a time in a worker thread, so 300,000 rows never sit in
memory as objects and the event loop stays free between chunks.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.actor import Actor
from core.campaigns.schemas import CampaignCreate, FileColumn, FileUpload, InvalidRow
from core.contacts.importing import MAX_FILE_BYTES, build_preview, detect_kind, open_sheet, too_large
from core.contacts.imports import safe_filename
from core.errors import InvalidInput
from core.message_templates.rendering import VARIABLE
from core.numbering.normalise import InvalidNumber, normalise
from core.web.i18n import N_

UPLOADS = "campaign-files"
ROLES = ("", "destination", "text", "variable")
SAMPLE_LINES = 3
CHUNK = 5_000
INVALID_KEPT = 50  # invalid rows named in the details; the rest are counted
MAX_TEXT = 2000
_TOKEN = re.compile(r"[0-9a-f]{32}")
_TEXT_TITLES = {"message", "messagetext", "text", "sms", "mensaje", "texto", "сообщение", "текст", "mesaj", "metin"}


@dataclass(slots=True)
class FileRow:
    """A valid row: its destination (E.164 digits), its own text (empty: the campaign's) and its variables."""

    phone: str
    text: str
    values: dict[str, str]


@dataclass
class RowCounts:
    """What reading the whole file left out, filled in as the chunks are read."""

    invalid: int = 0
    duplicates: int = 0
    invalid_rows: list[InvalidRow] = field(default_factory=list)

    def refuse(self, line: int, value: str, reason: str) -> None:
        self.invalid += 1
        if len(self.invalid_rows) < INVALID_KEPT:
            self.invalid_rows.append(InvalidRow(line=line, value=value[:60], reason=reason))


def _folder(var_dir: str, partner_id: int, file_id: str) -> Path:
    return Path(var_dir) / UPLOADS / str(partner_id) / file_id


def _variable(title: str, index: int, taken: set[str]) -> str:
    """A column's variable name from its title ("First name" → first_name); column_N when the title gives none."""
    name = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:40]
    if not VARIABLE.fullmatch("{" + name + "}") or name in taken:
        name = f"column_{index + 1}"
    taken.add(name)
    return name


def _describe(file_id: str, name: str, data: bytes) -> FileUpload:
    kind = detect_kind(data, name)
    preview = build_preview(data, kind, [])
    body = preview.rows[1:] if preview.has_header else preview.rows
    taken: set[str] = set()
    columns = []
    for index in range(preview.columns):
        title = preview.rows[0][index] if preview.has_header else ""
        role = "destination" if preview.suggested.get(index) == "phone" else ""
        if not role and re.sub(r"\W+", "", title.lower()) in _TEXT_TITLES:
            role = "text"
        columns.append(
            FileColumn(
                title=title or f"Column {index + 1}",
                variable=_variable(title, index, taken),
                role=role or "variable",
                samples=[row[index] for row in body[:SAMPLE_LINES]],
            )
        )
    return FileUpload(file=file_id, name=name, size=len(data), has_header=preview.has_header, columns=columns)


async def store(actor: Actor, filename: str, data: bytes, var_dir: str) -> FileUpload:
    """Check an uploaded campaign file and keep it for the campaign; its id, columns and first lines.

    Raises:
        InvalidInput: empty, not CSV/XLS/XLSX, damaged, or no rows.
        FileTooLarge: over 10 MB.
    """
    if len(data) > MAX_FILE_BYTES:
        raise too_large()
    name = safe_filename(filename, "campaign")
    file_id = secrets.token_hex(16)
    upload = await asyncio.to_thread(_describe, file_id, name, data)
    folder = _folder(var_dir, actor.partner_id, file_id)

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    await asyncio.to_thread(write)
    return upload


def _stored(actor: Actor, file_id: str, var_dir: str) -> Path:
    gone = InvalidInput(N_("The uploaded file is no longer there; upload it again"), field="file")
    if not _TOKEN.fullmatch(file_id):
        raise gone
    files = sorted(_folder(var_dir, actor.partner_id, file_id).glob("*")) if var_dir else []
    if not files:
        raise gone
    return files[0]


async def describe(actor: Actor, file_id: str, var_dir: str) -> FileUpload:
    """An uploaded file of the actor's company again (the form shows its columns at every step)."""
    path = _stored(actor, file_id, var_dir)
    return await asyncio.to_thread(lambda: _describe(file_id, path.name, path.read_bytes()))


def discard(actor: Actor, file_id: str, var_dir: str) -> None:
    """Remove an uploaded file once its campaign holds the rows."""
    shutil.rmtree(_folder(var_dir, actor.partner_id, file_id), ignore_errors=True)


def roles(data: CampaignCreate, upload: FileUpload) -> list[str]:
    """Each column's role, checked: known roles, one destination column, at most one text column.

    Raises:
        InvalidInput: on ``file_columns``.
    """
    chosen = [r.strip() for r in data.file_columns] or [c.role for c in upload.columns]
    if len(chosen) > len(upload.columns):
        raise InvalidInput(f"The file has {len(upload.columns)} columns, not {len(chosen)}", field="file_columns")
    for index, role in enumerate(chosen):
        if role not in ROLES:
            raise InvalidInput(f"Column {index + 1}: unknown role {role!r}", field="file_columns")
    for role, label in (("destination", "Destination number"), ("text", "Message text")):
        where = [n + 1 for n, r in enumerate(chosen) if r == role]
        if len(where) > 1:
            raise InvalidInput(f"Columns {where[0]} and {where[1]} are both {label}; choose one", field="file_columns")
    if "destination" not in chosen:
        raise InvalidInput(N_("Choose the column of destination numbers"), field="file_columns")
    if "text" not in chosen and not data.text.strip():
        raise InvalidInput(N_("Write the message text, or choose the column that holds it"), field="text")
    return chosen + [""] * (len(upload.columns) - len(chosen))


def _chunks(path: Path, upload: FileUpload, chosen: list[str], text: str, counts: RowCounts) -> Iterator[list[FileRow]]:
    """The file's valid rows, deduplicated, a chunk at a time; the rest counted in ``counts`` with their reasons."""
    data = path.read_bytes()
    rows = open_sheet(data, detect_kind(data, path.name)).rows
    phone_at = chosen.index("destination")
    text_at = chosen.index("text") if "text" in chosen else None
    variables = [(n, c.variable) for n, c in enumerate(upload.columns) if chosen[n] == "variable"]
    seen: set[str] = set()
    chunk: list[FileRow] = []
    for line, cells in enumerate(rows, start=1):
        if (line == 1 and upload.has_header) or not "".join(cells).strip():
            continue
        raw = cells[phone_at].strip() if phone_at < len(cells) else ""
        try:
            phone = normalise(raw)
        except InvalidNumber as exc:
            counts.refuse(line, raw, str(exc) if raw else N_("No destination number"))
            continue
        own = cells[text_at].strip() if text_at is not None and text_at < len(cells) else ""
        if not (own or text.strip()):
            counts.refuse(line, raw, N_("No message text"))
            continue
        if len(own) > MAX_TEXT:
            counts.refuse(line, raw, N_("The message text is longer than 2,000 characters"))
            continue
        if phone in seen:
            counts.duplicates += 1
            continue
        seen.add(phone)
        chunk.append(FileRow(phone, own, {name: cells[n].strip() for n, name in variables if n < len(cells)}))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def file_rows(
    actor: Actor, data: CampaignCreate, var_dir: str, counts: RowCounts
) -> AsyncIterator[list[FileRow]]:
    """The valid rows of the campaign's file, a chunk at a time, each chunk read in a worker thread."""
    path = _stored(actor, data.file, var_dir)
    upload = await asyncio.to_thread(lambda: _describe(data.file, path.name, path.read_bytes()))
    chunks = _chunks(path, upload, roles(data, upload), data.text, counts)
    empty: list[FileRow] = []
    # The next chunk is read while the caller writes this one: parsing and the database overlap.
    pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, empty))
    try:
        while chunk := await pending:
            pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, empty))
            yield chunk
    finally:
        pending.cancel()


def sample_file(channel: str) -> str:
    """The sample campaign file of a channel (CSV): a destination, a text of its own or none, a variable."""
    offer = "Hello {name}, see our offer: https://example.com/offer" if channel == "viber" else "Hello {name}, 20% off"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["destination", "message", "name"])
    writer.writerows(
        [
            ["34612345678", offer, "Ana"],
            ["34612345679", "Your order 1042 is on its way", "Luis"],
            ["34612345680", "", "Marta"],  # no text of its own: it gets the campaign's text
        ]
    )
    return out.getvalue()
