"""The SQL of a contact import: each chunk of rows goes to a temporary table in bulk, then set-based statements.

The statements are written for PostgreSQL; on SQLite the same text runs with ?N parameters and without casts.
"""

# ruff: noqa: S608 — the statements interpolate only integers (sender ids checked at start) and fixed SQL words.

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from core.db import json_value

COLUMNS = ("phone", "first_name", "last_name", "birth_date", "gender", "comments", "custom")


def _bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"


class ImportSql:
    """One import's statements on its transaction's own connection: asyncpg (COPY) or aiosqlite (executemany).

    ``apply_chunk`` runs after each chunk is staged: mark the rows whose number exists (and, to exclude them,
    those on the stop list), insert the new contacts, update the existing ones, add all taken to the group, and
    block or unblock sender IDs. Chunks are independent because the file's duplicates were refused before.
    """

    def __init__(self, connection: Any, *, sqlite: bool, row: dict[str, Any], user_id: int) -> None:
        self.connection = connection
        self.sqlite = sqlite
        self.partner, self.group_id, self.user_id = row["partner"], row["group_id"], user_id
        self.now = datetime.now(UTC)
        senders = [int(s) for s in json_value(row["stop_senders"]) or []]
        self.mode, self.stop = row["contact_mode"], row["stop_mode"]
        self.sender_list = ", ".join(str(s) for s in senders)
        self.take_new, self.take_existing = self.mode != "update", self.mode != "add_new"
        in_senders = f" AND b.sender IN ({self.sender_list})" if senders else ""
        self.on_stop_list = (
            f"c.blocked_all OR EXISTS (SELECT 1 FROM contact_block b WHERE b.contact = c.id{in_senders})"
        )
        self.taken = (
            f"((s.contact_id IS NULL AND {_bool(self.take_new)})"
            f" OR (s.contact_id IS NOT NULL AND NOT s.blocked AND {_bool(self.take_existing)}))"
        )
        # "All sender IDs" is the contact's blocked_all flag rather than one block per sender.
        self.new_blocked_all = _bool(self.stop == "block" and not senders)
        self.blocked_all = "contact.blocked_all"
        if self.stop in ("block", "unblock") and not senders:
            self.blocked_all = _bool(self.stop == "block")

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        if self.sqlite:
            # Written for PostgreSQL: SQLite takes ?N parameters and no ::type casts.
            cursor = await self.connection.execute(re.sub(r"\$(\d+)", r"?\1", re.sub(r"::\w+", "", sql)), args)
            count = cursor.rowcount
            await cursor.close()
            return count
        status = await self.connection.execute(sql, *args)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    async def count(self, sql: str) -> int:
        if self.sqlite:
            async with self.connection.execute(sql) as cursor:
                return next(iter((await cursor.fetchone()).values()))
        return await self.connection.fetchval(sql)

    async def create_stage(self) -> None:
        if self.sqlite:
            await self.execute("DROP TABLE IF EXISTS temp.import_stage")
        else:
            # One import per partner at a time: the counts of added and updated stay exact.
            await self.execute("SELECT pg_advisory_xact_lock(7301, $1)", self.partner)
        await self.execute(
            "CREATE TEMP TABLE import_stage (phone varchar(15) NOT NULL, first_name varchar(100),"
            " last_name varchar(100), birth_date date, gender varchar(10), comments text, custom text,"
            " contact_id bigint, blocked boolean NOT NULL DEFAULT FALSE)" + ("" if self.sqlite else " ON COMMIT DROP")
        )
        if self.sqlite:
            await self.execute("CREATE UNIQUE INDEX temp.import_stage_phone ON import_stage (phone)")

    async def drop_stage(self) -> None:
        if self.sqlite:
            await self.execute("DROP TABLE temp.import_stage")

    async def stage(self, rows: list[tuple[Any, ...]]) -> None:
        """Replace the staged rows with this chunk."""
        if self.sqlite:
            await self.execute("DELETE FROM import_stage")
            cursor = await self.connection.executemany(
                f"INSERT INTO import_stage ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            )
            await cursor.close()
        else:
            await self.execute("TRUNCATE import_stage")
            await self.connection.copy_records_to_table("import_stage", records=rows, columns=COLUMNS)

    async def apply_chunk(self) -> tuple[int, int]:
        """The set-based statements for the staged chunk; (added, updated)."""
        # Correlated subqueries and CROSS JOIN keep the staged chunk the outer loop (SQLite takes CROSS JOIN as an
        # order): one index lookup per row, however many contacts the partner has.
        await self.execute(
            "UPDATE import_stage SET contact_id = (SELECT c.id FROM contact AS c"
            " WHERE c.partner = $1 AND c.phone = import_stage.phone)",
            self.partner,
        )
        existing = await self.count("SELECT count(*) FROM import_stage WHERE contact_id IS NOT NULL")
        if self.stop == "exclude" and existing:
            await self.execute(
                f"UPDATE import_stage SET blocked = (SELECT {self.on_stop_list} FROM contact AS c"
                " WHERE c.id = import_stage.contact_id) WHERE contact_id IS NOT NULL"
            )
        added = updated = 0
        if self.take_new:
            added = await self.execute(
                "INSERT INTO contact (partner, phone, first_name, last_name, birth_date, gender, comments, custom,"
                " blocked_all, created_by, created_at, updated_at)"
                " SELECT $1::integer, phone, COALESCE(first_name, ''), COALESCE(last_name, ''), birth_date,"
                " COALESCE(gender, ''), COALESCE(comments, ''), COALESCE(custom, '{}')::json,"
                f" {self.new_blocked_all}, $2::integer, $3::timestamptz, $3::timestamptz"
                " FROM import_stage WHERE contact_id IS NULL ON CONFLICT (partner, phone) DO NOTHING",
                self.partner,
                self.user_id,
                self.now,
            )
        if self.take_existing and existing:
            if not self.sqlite:
                await self.execute("ANALYZE import_stage")  # joined with contact by id: worth the statistics
            merged = (
                "json_patch(contact.custom, s.custom)"
                if self.sqlite
                else "(contact.custom::jsonb || s.custom::jsonb)::json"
            )
            updated = await self.execute(
                "UPDATE contact SET first_name = COALESCE(s.first_name, contact.first_name),"
                " last_name = COALESCE(s.last_name, contact.last_name),"
                " birth_date = COALESCE(s.birth_date, contact.birth_date), gender = COALESCE(s.gender, contact.gender),"
                " comments = COALESCE(s.comments, contact.comments),"
                f" custom = CASE WHEN s.custom IS NULL THEN contact.custom ELSE {merged} END,"
                f" blocked_all = {self.blocked_all}, updated_at = $2"
                " FROM import_stage AS s WHERE contact.partner = $1 AND contact.id = s.contact_id AND NOT s.blocked",
                self.partner,
                self.now,
            )
        matched = "c.partner = $1 AND c.phone = s.phone"
        await self.execute(
            'INSERT INTO contact_group_member (contact, "group") SELECT c.id, $2::integer'
            f" FROM import_stage AS s CROSS JOIN contact AS c WHERE {matched} AND {self.taken}"
            ' ON CONFLICT (contact, "group") DO NOTHING',
            self.partner,
            self.group_id,
        )
        if self.stop == "block" and self.sender_list:
            await self.execute(
                "INSERT INTO contact_block (contact, sender) SELECT c.id, x.id"
                " FROM import_stage AS s CROSS JOIN contact AS c CROSS JOIN sender AS x"
                f" WHERE {matched} AND {self.taken} AND x.partner = $1 AND x.id IN ({self.sender_list})"
                " ON CONFLICT (contact, sender) DO NOTHING",
                self.partner,
            )
        if self.stop == "unblock" and self.take_existing and existing:
            only = f" AND sender IN ({self.sender_list})" if self.sender_list else ""
            await self.execute(
                "DELETE FROM contact_block WHERE contact IN"
                f" (SELECT s.contact_id FROM import_stage AS s WHERE s.contact_id IS NOT NULL AND NOT s.blocked){only}"
            )
        return added, updated
