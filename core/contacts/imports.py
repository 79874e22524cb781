"""Contact imports (CON-6, CON-7): upload, preview, start, the all-or-nothing run, its progress and the history."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from redis.asyncio import Redis
from saq.job import Status

from core.accounts.services import load_actor
from core.actor import Actor
from core.contacts._import_rows import InvalidRows, Stager
from core.contacts._import_sql import ImportSql
from core.contacts.fields import list_fields
from core.contacts.groups import create_group
from core.contacts.importing import MEDIA_TYPES, build_preview, check_mapping, detect_kind, kind_of, open_sheet
from core.contacts.schemas import GroupIn, GroupRef, ImportPreview, ImportStart, ImportUploaded, ImportView
from core.contacts.services import own_groups, own_senders
from core.contacts.tables import ContactGroup, ContactImport
from core.db import is_sqlite, json_value, must_exist, write_transaction
from core.errors import Conflict, InvalidInput, NotFound, PortalError
from core.portal import Portal
from core.tenancy import audit
from core.tenancy.scope import owned
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

log = logging.getLogger(__name__)

INVALID_FILE = "invalid-rows.csv"
PROGRESS_TTL = 24 * 3600


def progress_key(import_id: int) -> str:
    return f"import_progress:{import_id}"


def preview_key(import_id: int) -> str:
    return f"import_preview:{import_id}"


def safe_filename(filename: str, fallback: str = "contacts") -> str:
    """An uploaded file's name, safe to keep on disk: no folders, no odd characters, at most 120 characters."""
    name = re.sub(r"[^\w.\- ]+", "_", Path(filename.replace("\\", "/")).name).strip(" .")
    return name[-120:] or fallback


def _directory(var_dir: str, partner_id: int, import_id: int) -> Path:
    return Path(var_dir) / "imports" / str(partner_id) / str(import_id)


# Reading ----------------------------------------------------------------------------------------------------------


async def _own(actor: Actor, import_id: int) -> dict[str, Any]:
    row = await ContactImport.select().where((ContactImport.id == import_id) & owned(ContactImport, actor)).first()
    if row is None:
        raise NotFound("Import")
    return row


async def _views(rows: list[dict[str, Any]], redis: Redis | None) -> list[ImportView]:
    group_ids = sorted({r["group_id"] for r in rows if r["group_id"]})
    groups = (
        {
            g["id"]: GroupRef(id=g["id"], name=g["name"])
            for g in await ContactGroup.select(ContactGroup.id, ContactGroup.name).where(
                ContactGroup.id.is_in(group_ids)
            )
        }
        if group_ids
        else {}
    )
    views = []
    for r in rows:
        processed, total = r["processed"], r["total"]
        percent = 100 if r["status"] == "done" else 0
        if r["status"] in ("queued", "running") and redis is not None:
            live = await redis.hgetall(progress_key(r["id"]))
            if live:
                processed, total, percent = (int(live[k]) for k in (b"processed", b"total", b"percent"))
        views.append(
            ImportView(
                id=r["id"],
                filename=r["filename"],
                size=r["size"],
                status=r["status"],
                contact_mode=r["contact_mode"],
                stop_mode=r["stop_mode"],
                sender_ids=list(json_value(r["stop_senders"]) or []),
                group=groups.get(r["group_id"]),
                user_email=r["user_email"],
                total=total,
                processed=processed,
                percent=percent,
                added=r["added"],
                updated=r["updated"],
                skipped=r["skipped"],
                invalid=r["invalid"],
                has_invalid_file=bool(r["invalid_path"]),
                error=r["error"],
                created_at=r["created_at"],
                finished_at=r["finished_at"],
            )
        )
    return views


async def get_import(actor: Actor, import_id: int, redis: Redis | None = None) -> ImportView:
    """One import of the actor's partner; with ``redis``, a running one shows its live progress."""
    return (await _views([await _own(actor, import_id)], redis))[0]


async def list_imports(
    actor: Actor, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE, redis: Redis | None = None
) -> Page[ImportView]:
    """Import history, newest first."""
    where = owned(ContactImport, actor)
    found = await paginate(
        ContactImport.select()
        .order_by(ContactImport.created_at, ascending=False)
        .order_by(ContactImport.id, ascending=False),
        where,
        page=page,
        per_page=per_page,
    )
    return found.with_items(await _views(found.items, redis))


async def original_file(actor: Actor, import_id: int, var_dir: str) -> tuple[Path, str, str]:
    """The uploaded file as it came, its name and its media type (from its bytes, as the import read it)."""
    row = await _own(actor, import_id)
    path = Path(var_dir) / row["stored_path"]
    if not row["stored_path"] or not path.is_file():
        raise NotFound("File")
    with path.open("rb") as file:
        start = file.read(8)
    return path, row["filename"], MEDIA_TYPES[kind_of(start)]


async def invalid_file(actor: Actor, import_id: int, var_dir: str) -> tuple[Path, str]:
    """The refused rows with their row numbers and reasons, once the import is done."""
    row = await _own(actor, import_id)
    path = Path(var_dir) / row["invalid_path"]
    if not row["invalid_path"] or not path.is_file():
        raise NotFound("Invalid rows file")
    return path, f"invalid-rows-{import_id}.csv"


async def preview(actor: Actor, import_id: int, var_dir: str, redis: Redis | None = None) -> ImportPreview:
    """The preview made at upload (kept a day in Redis: a big workbook takes a second to read), else made again."""
    path, _, _ = await original_file(actor, import_id, var_dir)
    if redis is not None and (cached := await redis.get(preview_key(import_id))):
        return msgspec.json.decode(cached, type=ImportPreview)
    data = await asyncio.to_thread(path.read_bytes)
    shown = await asyncio.to_thread(build_preview, data, kind_of(data), await list_fields(actor))
    if redis is not None:
        await redis.set(preview_key(import_id), msgspec.json.encode(shown), ex=PROGRESS_TTL)
    return shown


# Upload and start ---------------------------------------------------------------------------------------------------


async def create_import(
    actor: Actor, filename: str, data: bytes, *, var_dir: str, redis: Redis | None = None
) -> ImportUploaded:
    """Check an uploaded file, keep it under var/imports/<partner>/<import id>/ and preview it.

    Raises:
        InvalidInput: empty, not CSV/XLS/XLSX, damaged, a zip bomb, or no rows.
        FileTooLarge: over 10 MB.
    """
    name = safe_filename(filename)
    kind = await asyncio.to_thread(detect_kind, data, name)
    shown = await asyncio.to_thread(build_preview, data, kind, await list_fields(actor))
    async with write_transaction():
        row = ContactImport(
            partner=actor.partner_id,
            user=actor.user_id,
            user_email=actor.email,
            filename=name,
            stored_path="",
            size=len(data),
            created_at=datetime.now(UTC),
        )
        await row.save()
    path = _directory(var_dir, actor.partner_id, row.id) / name
    try:
        await asyncio.to_thread(_write, path, data)
    except OSError:
        await ContactImport.delete().where(ContactImport.id == row.id)
        raise
    await ContactImport.update({ContactImport.stored_path: str(path.relative_to(var_dir))}).where(
        ContactImport.id == row.id
    )
    if redis is not None:
        await redis.set(preview_key(row.id), msgspec.json.encode(shown), ex=PROGRESS_TTL)
    return ImportUploaded(import_=await get_import(actor, row.id), preview=shown)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def start_import(actor: Actor, portal: Portal, import_id: int, data: ImportStart, *, ip: str = "") -> ImportView:
    """Check the mapping and options of an uploaded file, then queue the job that imports it.

    A new group is created here, as the guide's "Add Group" does, so its name is checked (409) before anything runs.

    Raises:
        NotFound: another partner's import, group or sender ID.
        Conflict: the import was started already, or the new group's name is taken.
        InvalidInput: the mapping names a column twice, misses Phone, or no group was chosen.
    """
    row = await _own(actor, import_id)
    if row["status"] != "uploaded":
        raise Conflict("This import was started already")
    shown = await preview(actor, import_id, portal.settings.var_dir, portal.redis)
    fields = await list_fields(actor)
    mapping = check_mapping(data.mapping, shown.columns, fields, creates_contacts=data.contact_mode != "update")
    senders = await own_senders(actor, data.sender_ids)
    if data.new_group.strip():
        group_id = (await create_group(actor, GroupIn(name=data.new_group.strip()), ip=ip)).id
    elif data.group_id is not None:
        group_id = (await own_groups(actor, [data.group_id]))[0]
    else:
        raise InvalidInput("Choose a group for the contacts or name a new one", field="group_id")
    async with write_transaction():
        claimed = (
            await ContactImport.update(
                {
                    ContactImport.status: "queued",
                    ContactImport.mapping: {
                        "has_header": data.has_header,
                        "columns": {str(c): t for c, t in mapping.items()},
                    },
                    ContactImport.contact_mode: data.contact_mode,
                    ContactImport.stop_mode: data.stop_mode,
                    ContactImport.stop_senders: senders,
                    ContactImport.group_id: group_id,
                }
            )
            .where((ContactImport.id == import_id) & (ContactImport.status == "uploaded"))
            .returning(ContactImport.id)
        )
        if not claimed:
            raise Conflict("This import was started already")
    await Progress(portal.redis, import_id).set(0, 0, 0)
    await portal.enqueue("run_import", import_id=import_id, key=f"import:{import_id}", timeout=600, retries=1)
    return await get_import(actor, import_id, portal.redis)


# The run ----------------------------------------------------------------------------------------------------------


class Progress:
    """Live progress in Redis, so that it shows while the import's transaction holds the database."""

    def __init__(self, redis: Redis, import_id: int) -> None:
        self.redis = redis
        self.key = progress_key(import_id)
        self.shown = -1

    async def set(self, percent: int, processed: int, total: int) -> None:
        if self.shown >= 0 and percent < self.shown + 5 and percent != 100:
            return  # every ~5 %
        self.shown = percent
        await self.redis.hset(self.key, mapping={"percent": percent, "processed": processed, "total": total})
        await self.redis.expire(self.key, PROGRESS_TTL)


async def run_import(portal: Portal, import_id: int) -> str:
    """Import a queued file in one transaction: everything or, on any failure, nothing (and the import failed)."""
    claimed = (
        await ContactImport.update({ContactImport.status: "running"})
        .where((ContactImport.id == import_id) & (ContactImport.status == "queued"))
        .returning(ContactImport.id)
    )
    if not claimed:
        return "not queued"
    row = must_exist(await ContactImport.select().where(ContactImport.id == import_id).first())
    directory = _directory(portal.settings.var_dir, row["partner"], import_id)
    invalid = InvalidRows(directory / INVALID_FILE, None)
    try:
        summary = await _run(portal, row, invalid)
    except PortalError as exc:
        await _failed(import_id, invalid, exc.detail)
        return f"failed: {exc.detail}"
    except (Exception, asyncio.CancelledError) as exc:
        reason = "it took longer than 10 minutes" if isinstance(exc, asyncio.CancelledError) else "an internal error"
        log.exception("import %s failed", import_id)
        await _failed(import_id, invalid, f"Nothing was imported because of {reason}; the worker's log has details")
        raise
    return summary


async def _failed(import_id: int, invalid: InvalidRows, reason: str) -> None:
    invalid.close()
    invalid.path.unlink(missing_ok=True)
    now = datetime.now(UTC)
    await ContactImport.update(
        {ContactImport.status: "failed", ContactImport.error: reason[:2000], ContactImport.finished_at: now}
    ).where(ContactImport.id == import_id)


async def fail_abandoned(portal: Portal) -> int:
    """Imports left ``running`` by a worker that died: the database rolled their transaction back, so say failed.

    An import is abandoned when its saq job is gone or over (saq aborts a job whose worker stopped once the
    job's timeout has passed). Only ``running`` ones are looked at: a ``queued`` one may not be enqueued yet.
    """
    abandoned = []
    for row in await ContactImport.select(ContactImport.id).where(ContactImport.status == "running"):
        job = await portal.queue.job(f"import:{row['id']}")
        if job is None or job.status in (Status.ABORTED, Status.FAILED, Status.COMPLETE):
            abandoned.append(row["id"])
    if abandoned:
        await ContactImport.update(
            {
                ContactImport.status: "failed",
                ContactImport.error: "Nothing was imported: the worker running the import stopped",
                ContactImport.finished_at: datetime.now(UTC),
            }
        ).where(ContactImport.id.is_in(abandoned) & (ContactImport.status == "running"))
    return len(abandoned)


async def _hold_group(group_id: int) -> None:
    """Keep the import's group until the import commits (a delete waits, then refuses: groups.delete_group).

    Raises:
        PortalError: the group was deleted after the import was started; nothing is imported.
    """
    query = ContactGroup.select(ContactGroup.id).where(ContactGroup.id == group_id)
    if not await (query if is_sqlite() else query.lock_rows("KEY SHARE")):
        raise PortalError("Nothing was imported: the group the contacts were to join was deleted")


async def _run(portal: Portal, row: dict[str, Any], invalid: InvalidRows) -> str:
    actor = await load_actor(row["user"], 0, check_portal=False) if row["user"] else None
    if actor is None or actor.partner_id != row["partner"]:
        raise PortalError("Nothing was imported: the user who started the import can no longer sign in")
    data = await asyncio.to_thread((Path(portal.settings.var_dir) / row["stored_path"]).read_bytes)
    plan = json_value(row["mapping"])
    sheet = await asyncio.to_thread(open_sheet, data, kind_of(data))
    stager = Stager(
        sheet,
        {int(c): t for c, t in plan["columns"].items()},
        await list_fields(actor),
        has_header=plan["has_header"],
        date_format=actor.date_format,
        invalid=invalid,
    )
    progress = Progress(portal.redis, row["id"])
    added = updated = 0
    async with write_transaction() as transaction:
        await _hold_group(row["group_id"])
        sql = ImportSql(transaction.connection, sqlite=is_sqlite(), row=row, user_id=actor.user_id)
        await sql.create_stage()
        # Read the next chunk in a thread while the database takes this one: parsing and writing overlap.
        pending = asyncio.ensure_future(asyncio.to_thread(stager.next_chunk))
        try:
            while chunk := await pending:
                pending = asyncio.ensure_future(asyncio.to_thread(stager.next_chunk))
                chunk_added, chunk_updated = await sql.apply(chunk)
                added, updated = added + chunk_added, updated + chunk_updated
                estimated = max(stager.consumed, stager.estimated)
                await progress.set(min(99, 100 * stager.consumed // estimated), stager.consumed, estimated)
        finally:
            with contextlib.suppress(BaseException):
                await pending
            invalid.close()
        total = stager.consumed
        await sql.drop_stage()
        skipped = stager.staged - added - updated
        await ContactImport.update(
            {
                ContactImport.status: "done",
                ContactImport.total: total,
                ContactImport.processed: total,
                ContactImport.added: added,
                ContactImport.updated: updated,
                ContactImport.skipped: skipped,
                ContactImport.invalid: invalid.count,
                ContactImport.invalid_path: str(invalid.path.relative_to(portal.settings.var_dir))
                if invalid.count
                else "",
                ContactImport.finished_at: datetime.now(UTC),
            }
        ).where(ContactImport.id == row["id"])
        summary = f"{added} added, {updated} updated, {skipped} skipped, {invalid.count} invalid"
        await audit.record(
            actor,
            "contact.import",
            f"Imported {row['filename']}: {summary}",
            object_type="import",
            object_id=row["id"],
            name=row["filename"],
            params={"added": added, "updated": updated, "skipped": skipped, "invalid": invalid.count},
        )
    await progress.set(100, total, total)
    return summary
