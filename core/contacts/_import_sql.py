"""The SQL of a contact import: a temporary table filled in bulk, then set-based statements (CON-6, CON-7).

The statements are written for PostgreSQL; on SQLite the same text runs with ?N parameters and without casts.
"""

# ruff: noqa: S608 — the statements interpolate only integers (sender ids checked at start) and fixed SQL words.

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from core.db import json_value


class ImportSql:
    """The import's statements on the transaction's own connection: asyncpg (COPY) or aiosqlite (executemany)."""

    COLUMNS = ("phone", "first_name", "last_name", "birth_date", "gender", "comments", "custom")

    def __init__(self, connection: Any, *, sqlite: bool) -> None:
        self.connection = connection
        self.sqlite = sqlite

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        if self.sqlite:
            # The statements are written for PostgreSQL: SQLite takes ?N parameters and no ::type casts.
            cursor = await self.connection.execute(re.sub(r"\$(\d+)", r"?\1", re.sub(r"::\w+", "", sql)), args)
            count = cursor.rowcount
            await cursor.close()
            return count
        status = await self.connection.execute(sql, *args)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    async def create_stage(self, partner_id: int) -> None:
        if self.sqlite:
            await self.execute("DROP TABLE IF EXISTS temp.import_stage")
        else:
            # One import per partner at a time: the counts of added and updated stay exact.
            await self.execute("SELECT pg_advisory_xact_lock(7301, $1)", partner_id)
        await self.execute(
            "CREATE TEMP TABLE import_stage (phone varchar(15) NOT NULL, first_name varchar(100),"
            " last_name varchar(100), birth_date date, gender varchar(10), comments text, custom text,"
            " contact_id bigint, blocked boolean NOT NULL DEFAULT FALSE)" + ("" if self.sqlite else " ON COMMIT DROP")
        )

    async def stage(self, rows: list[tuple[Any, ...]]) -> None:
        if self.sqlite:
            cursor = await self.connection.executemany(
                f"INSERT INTO import_stage ({', '.join(self.COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            )
            await cursor.close()
        else:
            await self.connection.copy_records_to_table("import_stage", records=rows, columns=self.COLUMNS)

    async def staged(self) -> None:
        if self.sqlite:
            await self.execute("CREATE UNIQUE INDEX temp.import_stage_phone ON import_stage (phone)")
        else:
            await self.execute("ANALYZE import_stage")

    async def drop_stage(self) -> None:
        if self.sqlite:
            await self.execute("DROP TABLE temp.import_stage")


def _bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"


async def apply(
    sql: ImportSql, row: dict[str, Any], user_id: int, step: Callable[[int], Awaitable[None]]
) -> tuple[int, int]:
    """The set-based statements: mark existing and stop-listed rows, insert, update, group, block. (added, updated)"""
    partner, group_id, now = row["partner"], row["group_id"], datetime.now(UTC)
    senders = [int(s) for s in json_value(row["stop_senders"]) or []]
    mode, stop = row["contact_mode"], row["stop_mode"]
    sender_list = ", ".join(str(s) for s in senders)  # ints checked against the partner at start
    in_senders = f" AND b.sender IN ({sender_list})" if senders else ""
    blocked = (
        f"(c.blocked_all OR EXISTS (SELECT 1 FROM contact_block b WHERE b.contact = c.id{in_senders}))"
        if stop == "exclude"
        else "FALSE"
    )
    await sql.execute(
        f"UPDATE import_stage SET contact_id = c.id, blocked = {blocked} FROM contact AS c"
        " WHERE c.partner = $1 AND c.phone = import_stage.phone",
        partner,
    )
    take_new, take_existing = mode != "update", mode != "add_new"
    taken = (
        f"((s.contact_id IS NULL AND {_bool(take_new)})"
        f" OR (s.contact_id IS NOT NULL AND NOT s.blocked AND {_bool(take_existing)}))"
    )
    # "All sender IDs" is the contact's blocked_all flag rather than one block per sender.
    blocked_all = "contact.blocked_all"
    if stop in ("block", "unblock") and not senders:
        blocked_all = _bool(stop == "block")
    added = updated = 0
    if take_new:
        added = await sql.execute(
            "INSERT INTO contact (partner, phone, first_name, last_name, birth_date, gender, comments, custom,"
            " blocked_all, created_by, created_at, updated_at)"
            " SELECT $1::integer, phone, COALESCE(first_name, ''), COALESCE(last_name, ''), birth_date,"
            " COALESCE(gender, ''), COALESCE(comments, ''), COALESCE(custom, '{}')::json,"
            f" {_bool(stop == 'block' and not senders)}, $2::integer, $3::timestamptz, $3::timestamptz"
            " FROM import_stage WHERE contact_id IS NULL ON CONFLICT (partner, phone) DO NOTHING",
            partner,
            user_id,
            now,
        )
    await step(85)
    if take_existing:
        merged = (
            "json_patch(contact.custom, s.custom)" if sql.sqlite else "(contact.custom::jsonb || s.custom::jsonb)::json"
        )
        updated = await sql.execute(
            "UPDATE contact SET first_name = COALESCE(s.first_name, contact.first_name),"
            " last_name = COALESCE(s.last_name, contact.last_name),"
            " birth_date = COALESCE(s.birth_date, contact.birth_date), gender = COALESCE(s.gender, contact.gender),"
            " comments = COALESCE(s.comments, contact.comments),"
            f" custom = CASE WHEN s.custom IS NULL THEN contact.custom ELSE {merged} END,"
            f" blocked_all = {blocked_all}, updated_at = $2"
            " FROM import_stage AS s WHERE contact.partner = $1 AND contact.id = s.contact_id AND NOT s.blocked",
            partner,
            now,
        )
    await step(90)
    chosen = f"FROM import_stage AS s JOIN contact AS c ON c.partner = $1 AND c.phone = s.phone WHERE {taken}"
    await sql.execute(
        f'INSERT INTO contact_group_member (contact, "group") SELECT c.id, $2::integer {chosen}'
        ' ON CONFLICT (contact, "group") DO NOTHING',
        partner,
        group_id,
    )
    await step(95)
    if stop == "block" and senders:
        await sql.execute(
            "INSERT INTO contact_block (contact, sender) SELECT c.id, x.id"
            f" FROM import_stage AS s JOIN contact AS c ON c.partner = $1 AND c.phone = s.phone CROSS JOIN sender AS x"
            f" WHERE x.partner = $1 AND x.id IN ({sender_list}) AND {taken}"
            " ON CONFLICT (contact, sender) DO NOTHING",
            partner,
        )
    if stop == "unblock" and take_existing:
        only = f" AND sender IN ({sender_list})" if senders else ""
        await sql.execute(
            "DELETE FROM contact_block WHERE contact IN"
            f" (SELECT s.contact_id FROM import_stage AS s WHERE s.contact_id IS NOT NULL AND NOT s.blocked){only}"
        )
    return added, updated
