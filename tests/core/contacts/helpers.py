"""Helpers of the contacts import tests: the acting end user, a file through the real job, files to upload."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import xlsxwriter

from core.accounts.services import load_actor
from core.accounts.tables import User
from core.actor import Actor
from core.contacts import imports
from core.contacts.schemas import ImportStart
from core.contacts.tables import Contact, ContactImport
from tests.factories import Tenant

DATA = Path(__file__).parent / "data"


async def actor_of(tenant: Tenant, email: str | None = None) -> Actor:
    user = await User.select(User.id).where(User.email == (email or tenant.end_user_admin)).first()
    actor = await load_actor(user["id"], tenant.portal_id)
    assert actor is not None
    return actor


async def finished(import_id: int, within: float = 120) -> dict[str, Any]:
    """The import's row once the worker is done with it."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        row = await ContactImport.select().where(ContactImport.id == import_id).first()
        if row["status"] in ("done", "failed"):
            return row
        assert asyncio.get_running_loop().time() < deadline, f"import {import_id} still {row['status']}"
        await asyncio.sleep(0.05)


async def import_file(
    app: Any, actor: Actor, data: bytes, filename: str = "contacts.csv", **options: Any
) -> dict[str, Any]:
    """Upload, start with the suggested mapping (unless given) into a new group (unless given), wait for the job."""
    portal = app.state.portal
    uploaded = await imports.create_import(actor, filename, data, var_dir=portal.settings.var_dir)
    options.setdefault("mapping", uploaded.preview.suggested)
    options.setdefault("has_header", uploaded.preview.has_header)
    if "group_id" not in options:
        options.setdefault("new_group", f"Import {uploaded.import_.id}")
    await imports.start_import(actor, portal, uploaded.import_.id, ImportStart(**options))
    return await finished(uploaded.import_.id)


async def contacts_of(partner_id: int) -> dict[str, dict[str, Any]]:
    rows = await Contact.select().where(Contact.partner == partner_id).order_by(Contact.phone)
    return {r["phone"]: r for r in rows}


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for number, row in enumerate(rows):
        for column, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(number, column, value)
            elif value is not None:
                sheet.write_string(number, column, value)
    book.close()
    return buffer.getvalue()
