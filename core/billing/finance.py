"""Finance history (BIL-7): the acting company's balance changes — filtered, paged, detailed and exported."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.actor import Actor
from core.billing.schemas import LEDGER_KIND_LABELS, LedgerView
from core.billing.services import ledger_view
from core.billing.tables import LedgerEntry
from core.db import json_value, newest_first
from core.errors import NotFound
from core.money import from_micros
from core.tenancy.scope import owned, require_admin
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNumber, PerPageNumber, paginate
from core.web.spreadsheets import XlsxBook, csv_line
from core.web.templating import format_datetime

EXPORT_BATCH = 5_000
Kind = Literal["", "manual", "top_up", "payment", "campaign", "pack", "api", "rerating", "reply"]
HEADERS = (
    "Date",
    "Type",
    "Amount",
    "Balance after",
    "Currency",
    "Initiator",
    "Description",
    "Campaign",
    "Country",
    "Network",
    "MCCMNC",
    "Quantity",
    "Parts",
    "Rate",
    "Total",
    "Messages from packs",  # last, so the columns that came before keep their places for existing readers
)


class FinanceFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which balance changes to show; times are UTC instants (the page turns the user's days into them)."""

    kind: Annotated[Kind, Meta(description="Type of change; empty for every type")] = ""
    created_from: datetime | None = None
    created_to: Annotated[datetime | None, Meta(description="Exclusive end")] = None
    page: PageNumber = 1
    per_page: PerPageNumber = DEFAULT_PER_PAGE


class FinanceLine(msgspec.Struct, kw_only=True):
    """One line of a change's breakdown: what was charged to one network at one rate."""

    country: str
    network: str
    mccmnc: str
    quantity: int
    parts: int
    rate: Decimal | None
    total: Decimal
    from_pack: bool = False
    """Packs paid for these messages (BIL-4): no rate, nothing off the balance."""


class FinanceEntry(LedgerView, kw_only=True):
    """A balance change with its breakdown by country, network and MCCMNC (campaign and API charges)."""

    campaign_id: int | None
    lines: list[FinanceLine]


def _where(actor: Actor, f: FinanceFilter) -> Any:
    require_admin(actor, "see finance")
    where: Any = owned(LedgerEntry, actor)
    if f.kind:
        where &= LedgerEntry.kind == f.kind
    if f.created_from is not None:
        where &= LedgerEntry.created_at >= f.created_from
    if f.created_to is not None:
        where &= LedgerEntry.created_at < f.created_to
    return where


def _lines(details: dict[str, Any]) -> list[FinanceLine]:
    return [
        FinanceLine(
            country=line.get("country") or "",
            network=line.get("network") or "",
            mccmnc=line.get("mccmnc") or "",
            quantity=int(line.get("quantity") or 0),
            parts=int(line.get("parts") or 0),
            rate=None if line.get("rate") is None else from_micros(int(line["rate"])),
            total=from_micros(int(line.get("total") or 0)),
            from_pack=bool(line.get("from_pack")),
        )
        for line in details.get("lines", [])
    ]


def _entry(row: dict[str, Any]) -> FinanceEntry:
    details = json_value(row["details"]) or {}
    return FinanceEntry(
        **msgspec.structs.asdict(ledger_view(row)), campaign_id=details.get("campaign_id"), lines=_lines(details)
    )


async def list_finance(actor: Actor, f: FinanceFilter) -> Page[LedgerView]:
    """One page of the company's balance changes, newest first."""
    found = await paginate(
        LedgerEntry.select().order_by(LedgerEntry.id, ascending=False),
        _where(actor, f),
        page=f.page,
        per_page=f.per_page,
    )
    return found.with_items([ledger_view(r) for r in found.items])


async def get_entry(actor: Actor, entry_id: int) -> FinanceEntry:
    """One balance change of the company with its breakdown; another company's id is a missing one."""
    row = await LedgerEntry.select().where(_where(actor, FinanceFilter()) & (LedgerEntry.id == entry_id)).first()
    if row is None:
        raise NotFound("Finance record")
    return _entry(row)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _cells(entry: FinanceEntry, actor: Actor) -> list[list[str]]:
    """Rows of one change: the change itself, repeated on each line of its breakdown."""
    head = [
        format_datetime(entry.created_at, actor),
        LEDGER_KIND_LABELS.get(entry.kind, entry.kind),
        _plain(entry.amount),
        _plain(entry.balance_after),
        entry.currency,
        entry.initiator_email or "system",
        entry.description,
        str(entry.campaign_id or ""),
    ]
    packs = str(entry.from_packs or "")
    if not entry.lines:
        return [[*head, *[""] * (len(HEADERS) - len(head) - 1), packs]]
    return [
        [
            *head,
            line.country,
            line.network,
            line.mccmnc,
            str(line.quantity),
            str(line.parts),
            _plain(line.rate),
            _plain(line.total),
            packs,
        ]
        for line in entry.lines
    ]


async def _batches(actor: Actor, f: FinanceFilter) -> AsyncIterator[list[list[str]]]:
    """Every matching change as export rows, newest first, EXPORT_BATCH at a time."""
    async for rows in newest_first(LedgerEntry, _where(actor, f), EXPORT_BATCH):
        yield [cells for row in rows for cells in _cells(_entry(row), actor)]


async def export_csv(actor: Actor, f: FinanceFilter) -> AsyncIterator[str]:
    """The history as CSV text, streamed batch by batch; checked for access before the first byte."""
    _where(actor, f)

    async def lines() -> AsyncIterator[str]:
        yield csv_line(HEADERS)
        async for rows in _batches(actor, f):
            yield "".join(csv_line(cells) for cells in rows)

    return lines()


async def export_xlsx(actor: Actor, f: FinanceFilter) -> Path:
    """The history in a temporary XLSX written in constant memory; the caller serves and deletes it."""
    _where(actor, f)
    handle, name = tempfile.mkstemp(prefix="finance-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    widths = [17, 16, 12, 14, 9, 26, 40, 10, 14, 20, 9, 9, 7, 10, 12]
    book = await asyncio.to_thread(XlsxBook, path, HEADERS, "Finance", widths)
    try:
        async for rows in _batches(actor, f):
            await asyncio.to_thread(book.write, rows)
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return path
