"""The SQL of a contact import: each chunk of rows goes to a temporary table in bulk, then set-based statements."""

# ruff: noqa: S608 — the statements interpolate only integers (sender ids checked at start) and fixed SQL words.

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from core.db import json_value
from core.rawsql import RawSql

COLUMNS = ("phone", "first_name", "last_name", "birth_date", "gender", "comments", "custom")
NEW_CONTACT_COLUMNS = (
    "id",
    "partner",
    "phone",
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "comments",
    "custom",
    "blocked_all",
    "created_by",
    "created_at",
    "updated_at",
)


def _bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"


class ImportSql(RawSql):
    """One import's statements on its transaction's own connection: asyncpg (COPY) or aiosqlite (executemany).

    ``apply_chunk`` runs after each chunk is staged: find the rows whose number exists (and, to exclude them,
    those on the stop list), insert the new contacts, update the existing ones, put both in the group, and block
    or unblock sender IDs. Chunks are independent because the file's duplicates were refused before staging.
    """

    def __init__(self, connection: Any, *, sqlite: bool, row: dict[str, Any], user_id: int) -> None:
        super().__init__(connection, sqlite=sqlite)
        self.partner, self.group_id, self.user_id = row["partner"], row["group_id"], user_id
        self.now = datetime.now(UTC)
        self.senders = [int(s) for s in json_value(row["stop_senders"]) or []]
        self.stop = row["stop_mode"]
        self.take_new, self.take_existing = row["contact_mode"] != "update", row["contact_mode"] != "add_new"
        self.sender_list = ", ".join(str(s) for s in self.senders)
        in_senders = f" AND b.sender IN ({self.sender_list})" if self.senders else ""
        self.on_stop_list = (
            f"c.blocked_all OR EXISTS (SELECT 1 FROM contact_block b WHERE b.contact = c.id{in_senders})"
        )
        # "All sender IDs" is the contact's blocked_all flag rather than one block per sender.
        self.new_blocked_all = self.stop == "block" and not self.senders
        self.blocked_all = "contact.blocked_all"
        if self.stop in ("block", "unblock") and not self.senders:
            self.blocked_all = _bool(self.stop == "block")

    async def create_stage(self) -> None:
        if self.sqlite:
            await self.execute("DROP TABLE IF EXISTS temp.import_stage")
        else:
            # One import per partner at a time: the counts of added and updated stay exact.
            await self.execute("SELECT pg_advisory_xact_lock(7301, $1)", self.partner)
            # pg_trgm's GIN index on phone also answers "=" through bitmap scans, far slower than the btree.
            await self.execute("SET LOCAL enable_bitmapscan = off")
        await self.execute(
            "CREATE TEMP TABLE import_stage (phone varchar(15) NOT NULL, first_name varchar(100),"
            " last_name varchar(100), birth_date date, gender varchar(10), comments text, custom text,"
            " contact_id bigint, blocked boolean NOT NULL DEFAULT FALSE)" + ("" if self.sqlite else " ON COMMIT DROP")
        )
        if self.sqlite:
            await self.execute("CREATE UNIQUE INDEX temp.import_stage_phone ON import_stage (phone)")
        # A company's first import has nothing to look up: the file's numbers are distinct, so no chunk can meet
        # a contact that an earlier chunk added.
        self.had_contacts = bool(
            (await self.column("SELECT EXISTS (SELECT 1 FROM contact WHERE partner = $1)", self.partner))[0]
        )
        self.analyzed_rows, self.added_since = 0, 0
        self.id_sequence: int | None = None
        if self.had_contacts:
            await self._analyze_contacts()

    async def _analyze_contacts(self) -> None:
        """Fresh planner statistics on contact, inside this transaction (it sees the rows added so far).

        Without them (a truncated or fast-grown table reads as empty) the planner may serve the per-row lookup
        with an index on the partner alone and scan every contact of the partner for each staged row.
        """
        if self.sqlite:
            return
        await self.execute("ANALYZE contact")
        self.analyzed_rows += self.added_since
        self.added_since = 0

    async def drop_stage(self) -> None:
        if self.sqlite:
            await self.execute("DROP TABLE temp.import_stage")

    async def stage(self, rows: list[tuple[Any, ...]]) -> None:
        """Replace the staged rows with this chunk."""
        await self.execute("DELETE FROM import_stage" if self.sqlite else "TRUNCATE import_stage")
        await self.bulk("import_stage", COLUMNS, rows)

    async def apply(self, rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        """Write one chunk; (added, updated).

        A company's first import on PostgreSQL has nothing to look up or update: its rows go straight into
        contact with COPY (ids reserved from the sequence), skipping the staging table and the INSERT … SELECT —
        about a third of the database time per chunk. Should someone add one of these numbers by hand meanwhile,
        the unique index refuses the COPY and the chunk takes the staged path instead, from a savepoint.
        """
        if not self.sqlite and not self.had_contacts and self.take_new and rows:
            await self.execute("SAVEPOINT direct_chunk")
            try:
                added = await self._copy_new(rows)
            except asyncpg.UniqueViolationError:
                await self.execute("ROLLBACK TO SAVEPOINT direct_chunk")
            else:
                await self.execute("RELEASE SAVEPOINT direct_chunk")
                return added, 0
        await self.stage(rows)
        return await self.apply_chunk()

    async def _copy_new(self, rows: list[tuple[Any, ...]]) -> int:
        if self.id_sequence is None:
            # Resolved once: pg_get_serial_sequence inside the query would look the name up for every row
            # (about 1.1 s of catalogue lookups per 300,000 ids); an oid cast to regclass costs nothing.
            self.id_sequence = (await self.column("SELECT pg_get_serial_sequence('contact', 'id')::regclass::oid"))[0]
        ids = [
            int(i)
            for i in await self.column(
                "SELECT nextval($2::oid::regclass) FROM generate_series(1, $1)", len(rows), self.id_sequence
            )
        ]
        now, blocked = self.now, self.new_blocked_all
        records = [
            (
                i,
                self.partner,
                r[0],
                r[1] or "",
                r[2] or "",
                r[3],
                r[4] or "",
                r[5] or "",
                r[6] or "{}",
                blocked,
                self.user_id,
                now,
                now,
            )
            for i, r in zip(ids, rows, strict=True)
        ]
        await self.bulk("contact", NEW_CONTACT_COLUMNS, records)
        await self._add_own_to_group(ids)
        if self.stop == "block" and self.senders:
            await self.bulk("contact_block", ("contact", "sender"), [(i, s) for i in ids for s in self.senders])
        return len(ids)

    async def apply_chunk(self) -> tuple[int, int]:
        """The set-based statements for the staged chunk; (added, updated)."""
        existing = 0
        if self.had_contacts:
            # Re-analyse each time the table has doubled: a handful of ANALYZEs for a million rows.
            if self.added_since >= max(20_000, self.analyzed_rows):
                await self._analyze_contacts()
            # A correlated subquery keeps the chunk the outer loop on both engines: one index lookup per row,
            # however many contacts the partner has.
            await self.execute(
                "UPDATE import_stage SET contact_id = (SELECT c.id FROM contact AS c"
                " WHERE c.partner = $1 AND c.phone = import_stage.phone)",
                self.partner,
            )
            existing = (await self.column("SELECT count(*) FROM import_stage WHERE contact_id IS NOT NULL"))[0]
        added = await self._insert_new() if self.take_new else 0
        self.added_since += added
        updated = await self._update_existing() if self.take_existing and existing else 0
        return added, updated

    async def _insert_new(self) -> int:
        """Insert the new numbers, then their group membership and blocks straight from the ids they got."""
        ids = await self.column(
            "INSERT INTO contact (partner, phone, first_name, last_name, birth_date, gender, comments, custom,"
            " blocked_all, created_by, created_at, updated_at)"
            " SELECT $1::integer, phone, COALESCE(first_name, ''), COALESCE(last_name, ''), birth_date,"
            " COALESCE(gender, ''), COALESCE(comments, ''), COALESCE(custom, '{}')::json,"
            f" {_bool(self.new_blocked_all)}, $2::integer, $3::timestamptz, $3::timestamptz"
            # A number someone added by hand meanwhile is skipped here rather than failing the whole import.
            " FROM import_stage WHERE contact_id IS NULL ON CONFLICT (partner, phone) DO NOTHING RETURNING id",
            self.partner,
            self.user_id,
            self.now,
        )
        await self._add_own_to_group(ids)
        if self.stop == "block" and self.senders:
            await self.bulk("contact_block", ("contact", "sender"), [(i, s) for i in ids for s in self.senders])
        return len(ids)

    async def _add_own_to_group(self, ids: list[int]) -> None:
        """Put contacts this transaction has just inserted in the group.

        On PostgreSQL the membership check then skips locking them (no one else can see them yet): about 0.6 s of
        a 300,000-row import, measured. The setting is local to the transaction and cleared right after.
        """
        if not self.sqlite:
            await self.execute("SELECT set_config('portal.own_rows_of', 'contact', true)")
        await self.bulk("contact_group_member", ("contact", "group"), [(i, self.group_id) for i in ids])
        if not self.sqlite:
            await self.execute("SELECT set_config('portal.own_rows_of', '', true)")

    async def _update_existing(self) -> int:
        """Update the existing numbers not excluded by the stop list; add them to the group; (un)block them."""
        if not self.sqlite:
            await self.execute("ANALYZE import_stage")  # joined with contact by id: worth the statistics
        if self.stop == "exclude":
            await self.execute(
                f"UPDATE import_stage SET blocked = (SELECT {self.on_stop_list} FROM contact AS c"
                " WHERE c.id = import_stage.contact_id) WHERE contact_id IS NOT NULL"
            )
        merged = "(contact.custom::jsonb || s.custom::jsonb)::json"
        if self.sqlite:
            merged = "json_patch(contact.custom, s.custom)"
        custom = f"CASE WHEN s.custom IS NULL THEN contact.custom ELSE {merged} END"
        taken = "FROM import_stage AS s WHERE s.contact_id IS NOT NULL AND NOT s.blocked"
        updated = (await self.column(f"SELECT count(*) {taken}"))[0]
        # Only the rows the file changes are written: the same list imported again (into another group, say)
        # costs lookups, not 300,000 rewritten rows.
        changes = " OR ".join(
            [
                *(f"(s.{f} IS NOT NULL AND s.{f} IS DISTINCT FROM contact.{f})" for f in COLUMNS[1:6]),
                f"(s.custom IS NOT NULL AND ({custom})::text IS DISTINCT FROM contact.custom::text)",
                f"contact.blocked_all IS DISTINCT FROM {self.blocked_all}",
            ]
        )
        await self.execute(
            "UPDATE contact SET first_name = COALESCE(s.first_name, contact.first_name),"
            " last_name = COALESCE(s.last_name, contact.last_name),"
            " birth_date = COALESCE(s.birth_date, contact.birth_date), gender = COALESCE(s.gender, contact.gender),"
            f" comments = COALESCE(s.comments, contact.comments), custom = {custom},"
            f" blocked_all = {self.blocked_all}, updated_at = $2"
            " FROM import_stage AS s WHERE contact.partner = $1 AND contact.id = s.contact_id AND NOT s.blocked"
            f" AND ({changes})",
            self.partner,
            self.now,
        )
        # NOT EXISTS rather than ON CONFLICT: most of these contacts are often in the group already.
        await self.execute(
            f'INSERT INTO contact_group_member (contact, "group") SELECT s.contact_id, $1::integer {taken}'
            " AND NOT EXISTS (SELECT 1 FROM contact_group_member AS m WHERE m.contact = s.contact_id"
            ' AND m."group" = $1) ON CONFLICT (contact, "group") DO NOTHING',
            self.group_id,
        )
        if self.stop == "block" and self.senders:
            await self.execute(
                "INSERT INTO contact_block (contact, sender) SELECT s.contact_id, x.id"
                f" FROM import_stage AS s CROSS JOIN sender AS x WHERE s.contact_id IS NOT NULL AND NOT s.blocked"
                f" AND x.partner = $1 AND x.id IN ({self.sender_list}) ON CONFLICT (contact, sender) DO NOTHING",
                self.partner,
            )
        if self.stop == "unblock":
            only = f" AND sender IN ({self.sender_list})" if self.senders else ""
            await self.execute(f"DELETE FROM contact_block WHERE contact IN (SELECT s.contact_id {taken}){only}")
        return updated
