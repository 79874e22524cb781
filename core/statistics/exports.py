"""EDR export tasks (STA-2, STA-3): the count first, then a background task that streams the file in constant memory.

A task is written ``waiting`` and one job writes it batch by batch (keyset pages of EXPORT_BATCH records), storing
its progress and checking between batches whether the user cancelled it; a cancelled task leaves no file. The file
honours its user's date format and time zone, and every cell that a spreadsheet could run as a formula is
neutralised. Downloaded files wait EXPORT_KEEP, e-mailed ones are reached through the link in the mail; a cron
removes expired files.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from core.accounts.services import load_actor
from core.actor import Actor
from core.campaigns.tables import Campaign
from core.db import json_value, must_exist, newest_first
from core.dispatch.tables import Edr
from core.errors import Conflict, InvalidInput, NotFound
from core.mail.request_notices import site_of
from core.mail.services import send_mail
from core.money import from_micros
from core.portal import Portal
from core.statistics.schemas import EdrFilter, ExportCreate, ExportView
from core.statistics.services import edr_where, scope
from core.statistics.tables import ExportTask
from core.tenancy.resolver import absolute_url
from core.tenancy.scope import owned
from core.web.i18n import N_, translate
from core.web.pagination import Page, paginate
from core.web.spreadsheets import XlsxBook, csv_line, neutralise
from core.web.templating import format_datetime

log = logging.getLogger(__name__)

EXPORT_BATCH = 5_000
EXPORT_KEEP = timedelta(days=3)
MAIL_ATTACH_LIMIT = 25 * 1024 * 1024  # STA-2: a larger file is sent as a link, mail servers refuse big messages
TASK = "run_edr_export"
# Every column a file may carry, in the default order, with its header (translated for the user).
COLUMNS: dict[str, str] = {
    "created_at": N_("Created"),
    "transaction_id": N_("Transaction ID"),
    "campaign": N_("Campaign"),
    "channel": N_("Channel"),
    "sender": N_("Sender ID"),
    "destination": N_("Recipient"),
    "text": N_("Text"),
    "parts": N_("Parts"),
    "country": N_("Country"),
    "network": N_("Network"),
    "mccmnc": "MCCMNC",
    "rate": N_("Rate"),
    "price": N_("Price"),
    "status": N_("Status"),
    "error": N_("Error"),
    "sent_at": N_("Sent"),
    "done_at": N_("Finished"),
}
STATUS_LABELS = {
    "waiting": N_("Waiting"),
    "ready": N_("Ready"),
    "sent": N_("Sent"),
    "cancelled": N_("Cancelled"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
}


def _view(row: dict[str, Any]) -> ExportView:
    ready = row["status"] in ("ready", "sent") and bool(row["file_path"])
    return ExportView(
        id=row["id"],
        status=row["status"],
        file_format=row["file_format"],
        delivery=row["delivery"],
        columns=list(json_value(row["columns"]) or []),
        total=row["total"],
        written=row["written"],
        file_size=row["file_size"],
        error=row["error"],
        user_email=row["user_email"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        expires_at=row["expires_at"],
        download_url=f"/statistics/exports/{row['id']}/file" if ready else None,
    )


def _filters(f: EdrFilter) -> dict[str, Any]:
    return {k: v for k, v in msgspec.to_builtins(f).items() if k not in ("page", "per_page") and v not in ("", None)}


async def count_matching(actor: Actor, f: EdrFilter) -> int:
    """How many records the filter matches now: shown before an export is made."""
    return await Edr.count().where(edr_where(actor, f))


async def create_export(portal: Portal, actor: Actor, data: ExportCreate) -> ExportView:
    """A waiting task for the actor's records matching ``data.filters``, and the job that writes it."""
    f = data.filters
    wanted: list[str] = list(data.columns) or list(COLUMNS)
    columns = list(dict.fromkeys(wanted))
    if len(columns) != len(wanted):
        raise InvalidInput(N_("Choose each column once"), field="columns")
    total = await count_matching(actor, f)
    if total == 0:
        raise InvalidInput(N_("No record matches these filters: there is nothing to export"), field="filters")
    rows = await ExportTask.insert(
        ExportTask(
            partner=actor.partner_id,
            user_id=actor.user_id,
            user_email=actor.email,
            filters=_filters(f),
            columns=columns,
            file_format=data.file_format,
            delivery=data.delivery,
            status="waiting",
            total=total,
            created_at=datetime.now(UTC),
        )
    ).returning(ExportTask.id)
    task_id = int(rows[0]["id"])
    await _enqueue(portal, task_id)
    return await get_export(actor, task_id)


async def _enqueue(portal: Portal, task_id: int) -> None:
    await portal.enqueue(TASK, task_id=task_id, key=f"export:{task_id}", timeout=3600, retries=1)


async def _own(actor: Actor, task_id: int) -> dict[str, Any]:
    row = await ExportTask.select().where((ExportTask.id == task_id) & owned(ExportTask, actor)).first()
    if row is None:
        raise NotFound("Export task")
    return row


async def get_export(actor: Actor, task_id: int) -> ExportView:
    return _view(await _own(actor, task_id))


async def list_exports(actor: Actor, page: int = 1, per_page: int = 20) -> Page[ExportView]:
    """The company's export tasks, newest first."""
    found = await paginate(
        ExportTask.select().order_by(ExportTask.id, ascending=False),
        owned(ExportTask, actor),
        page=page,
        per_page=per_page,
    )
    return found.with_items([_view(r) for r in found.items])


async def cancel_export(actor: Actor, task_id: int) -> ExportView:
    """Stop a waiting task; its job notices between two batches and removes what it wrote."""
    await _own(actor, task_id)
    changed = (
        await ExportTask.update({ExportTask.status: "cancelled", ExportTask.finished_at: datetime.now(UTC)})
        .where((ExportTask.id == task_id) & (ExportTask.status == "waiting"))
        .returning(ExportTask.id)
    )
    if not changed:
        raise Conflict(N_("Only a waiting export can be cancelled"))
    return await get_export(actor, task_id)


async def restart_export(portal: Portal, actor: Actor, task_id: int) -> ExportView:
    """Run a cancelled, failed or expired task again from the start, with the filters it was made with."""
    await _own(actor, task_id)
    changed = (
        await ExportTask.update(
            {
                ExportTask.status: "waiting",
                ExportTask.written: 0,
                ExportTask.error: "",
                ExportTask.finished_at: None,
                ExportTask.expires_at: None,
            }
        )
        .where((ExportTask.id == task_id) & ExportTask.status.is_in(["cancelled", "failed", "expired"]))
        .returning(ExportTask.id)
    )
    if not changed:
        raise Conflict(N_("Only a cancelled, failed or expired export can be restarted"))
    await _enqueue(portal, task_id)
    return await get_export(actor, task_id)


async def export_file(actor: Actor, task_id: int) -> tuple[Path, str]:
    """The finished file and the name to download it under."""
    row = await _own(actor, task_id)
    path = Path(row["file_path"])
    if row["status"] not in ("ready", "sent") or not row["file_path"] or not await asyncio.to_thread(path.exists):
        raise NotFound("Export file")
    return path, f"edr-export-{task_id}.{row['file_format']}"


# The job --------------------------------------------------------------------------------------------------------


def _cells(
    row: dict[str, Any], columns: Sequence[str], campaigns: dict[int, tuple[str, str]], actor: Actor
) -> list[str]:
    campaign = campaigns.get(row["campaign"]) if row["campaign"] is not None else None
    values = {
        "created_at": format_datetime(row["created_at"], actor),
        "sent_at": format_datetime(row["sent_at"], actor),
        "done_at": format_datetime(row["done_at"], actor),
        "campaign": campaign[0] if campaign else "",
        "text": row["text"] if row["text"] is not None else (campaign[1] if campaign else ""),
        "rate": str(from_micros(row["rate"])) if row["rate"] is not None else "",
        "price": str(from_micros(row["price"])),
    }
    return [neutralise(str(values[c] if c in values else row[c] if row[c] is not None else "")) for c in columns]


async def _campaigns(actor: Actor, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = await Campaign.select(Campaign.id, Campaign.name, Campaign.text).where(
        scope(actor, Campaign) & Campaign.id.is_in(sorted(ids))
    )
    return {r["id"]: (r["name"], r["text"]) for r in rows}


class _Cancelled(Exception):
    """The user cancelled the task while it ran."""


class _CsvFile:
    """The CSV twin of XlsxBook: a header, then rows appended; written in the caller's thread."""

    def __init__(self, path: Path, headers: Sequence[str]) -> None:
        self._out = path.open("w", encoding="utf-8", newline="")
        self._out.write(csv_line(headers))

    def write(self, rows: Sequence[Sequence[str]]) -> None:
        self._out.write("".join(csv_line(cells) for cells in rows))

    def close(self) -> None:
        self._out.close()


async def _write(task: dict[str, Any], actor: Actor, path: Path) -> None:
    columns = list(json_value(task["columns"]) or [])
    headers = [translate(actor.language, COLUMNS[c]) for c in columns]
    where = edr_where(actor, msgspec.convert(json_value(task["filters"]) or {}, EdrFilter, strict=False))
    out: _CsvFile | XlsxBook
    if task["file_format"] == "xlsx":
        out = await asyncio.to_thread(XlsxBook, path, headers, "EDR")
    else:
        out = await asyncio.to_thread(_CsvFile, path, headers)
    written = 0
    try:
        async for rows in newest_first(Edr, where, EXPORT_BATCH):
            campaigns = await _campaigns(actor, {r["campaign"] for r in rows if r["campaign"] is not None})
            await asyncio.to_thread(out.write, [_cells(r, columns, campaigns, actor) for r in rows])
            written += len(rows)
            still = (
                await ExportTask.update({ExportTask.written: written})
                .where((ExportTask.id == task["id"]) & (ExportTask.status == "waiting"))
                .returning(ExportTask.id)
            )
            if not still:
                raise _Cancelled
    finally:
        await asyncio.to_thread(out.close)


async def run_export(portal: Portal, task_id: int) -> str:
    """Write the file of a waiting task, then make it downloadable or mail its link."""
    task = await ExportTask.select().where(ExportTask.id == task_id).first()
    if task is None or task["status"] != "waiting":
        return "skipped"
    actor = await load_actor(task["user_id"], 0, check_portal=False)
    if actor is None or actor.partner_id != task["partner"]:
        await _finish(task_id, "failed", error="The user who asked for this export no longer exists")
        return "failed"
    folder = Path(portal.settings.var_dir) / "exports" / str(task["partner"])
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    # A worker killed mid-file left a partial one; this run writes from scratch, so that one goes first.
    for stale in await asyncio.to_thread(lambda: list(folder.glob(f"{task_id}-*"))):
        await asyncio.to_thread(stale.unlink, missing_ok=True)
    path = folder / f"{task_id}-{secrets.token_hex(8)}.{task['file_format']}"
    try:
        await _write(task, actor, path)
    except _Cancelled:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return "cancelled"
    except Exception as exc:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        log.exception("export %s failed", task_id)
        await _finish(task_id, "failed", error=str(exc)[:300])
        return "failed"
    if not await _finish(task_id, "ready", path=path):
        await asyncio.to_thread(path.unlink, missing_ok=True)  # cancelled after its last batch
        return "cancelled"
    if task["delivery"] != "email":
        return "ready"
    # "sent" only once the mail is stored: a worker lost in between leaves a ready file, not a mail never sent.
    site = await site_of(task["partner"])
    link = absolute_url(portal.settings, site, f"/statistics/exports/{task_id}/file") if site else ""
    view = _view(must_exist(await ExportTask.select().where(ExportTask.id == task_id).first()))
    attached = view.file_size <= MAIL_ATTACH_LIMIT
    await send_mail(
        portal,
        to=task["user_email"],
        template="export_ready",
        context={"task": view, "link": link, "attached": attached},
        language=actor.language,
        site=site,
        partner_id=task["partner"],
        attachment=path if attached else None,
        attachment_name=f"edr-export-{task_id}.{task['file_format']}",
    )
    await ExportTask.update({ExportTask.status: "sent"}).where(ExportTask.id == task_id)
    return "sent"


async def _finish(task_id: int, status: str, *, path: Path | None = None, error: str = "") -> bool:
    now = datetime.now(UTC)
    changes: dict[Any, Any] = {ExportTask.status: status, ExportTask.finished_at: now, ExportTask.error: error}
    if path is not None:
        changes |= {
            ExportTask.file_path: str(path),
            ExportTask.file_size: (await asyncio.to_thread(path.stat)).st_size,
            ExportTask.expires_at: now + EXPORT_KEEP,
        }
    done = (
        await ExportTask.update(changes)
        .where((ExportTask.id == task_id) & (ExportTask.status == "waiting"))
        .returning(ExportTask.id)
    )
    return bool(done)


async def remove_expired() -> int:
    """Cron: delete the files whose time is up; their tasks read "expired" and can be restarted."""
    now = datetime.now(UTC)
    rows = await ExportTask.select(ExportTask.id, ExportTask.file_path).where(
        (ExportTask.expires_at < now) & (ExportTask.file_path != "")
    )
    for row in rows:
        await asyncio.to_thread(Path(row["file_path"]).unlink, missing_ok=True)
        await ExportTask.update({ExportTask.status: "expired", ExportTask.file_path: ""}).where(
            ExportTask.id == row["id"]
        )
    return len(rows)
