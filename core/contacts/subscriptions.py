"""Subscription actions of auto-replies (MO-3): a recipient's MO blocks or unblocks a sender ID for it, and can add
it to a group; a number that is not a contact yet becomes one, so the block has something to hold on to.

Set-wise for a whole batch of MO: a few statements, however many numbers answered.
"""

# ruff: noqa: S608 — the statements interpolate placeholders only; every value is a parameter.

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from core.db import is_sqlite, write_transaction
from core.rawsql import RawSql

Subscription = Literal["subscribe", "unsubscribe"]
CHUNK = 500  # numbers or pairs per statement: at most 1,002 parameters, under SQLite's and PostgreSQL's limits


def _pairs(count: int) -> str:
    """``($1, $2), ($3, $4), …``: the placeholders of ``count`` rows of two values."""
    return ", ".join(f"(${2 * i + 1}, ${2 * i + 2})" for i in range(count))


async def apply_subscriptions(partner_id: int, items: Sequence[tuple[str, int, Subscription, int | None]]) -> None:
    """For each (phone, sender ID, action, group): block (unsubscribe) or unblock (subscribe) the sender ID for the
    partner's contact of that phone, and add it to the group when that is one of the partner's groups. Repeating
    it changes nothing more."""
    if not items:
        return
    now = datetime.now(UTC)
    phones = sorted({phone for phone, _, _, _ in items})
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        contacts: dict[str, int] = {}
        for start in range(0, len(phones), CHUNK):
            chunk = phones[start : start + CHUNK]
            # The unique (partner, phone) index settles two batches of one number at once: one insert, both find it.
            rows_sql = ", ".join(f"(${i + 3}, $1, '', '', '', '', '{{}}', FALSE, $2, $2)" for i in range(len(chunk)))
            await sql.execute(
                "INSERT INTO contact (phone, partner, first_name, last_name, gender, comments, custom, blocked_all,"
                f" created_at, updated_at) VALUES {rows_sql} ON CONFLICT (partner, phone) DO NOTHING",
                partner_id,
                now,
                *chunk,
            )
            marks = ", ".join(f"${i + 2}" for i in range(len(chunk)))
            rows = await sql.rows(
                f"SELECT id, phone FROM contact WHERE partner = $1 AND phone IN ({marks})", partner_id, *chunk
            )
            contacts.update({r["phone"]: r["id"] for r in rows})
        blocks = sorted({(contacts[p], s) for p, s, action, _ in items if action == "unsubscribe"})
        unblocks = sorted({(contacts[p], s) for p, s, action, _ in items if action == "subscribe"})
        members = sorted({(contacts[p], g) for p, _, _, g in items if g is not None})
        for start in range(0, len(blocks), CHUNK):
            chunk_pairs = blocks[start : start + CHUNK]
            await sql.execute(
                f"INSERT INTO contact_block (contact, sender) VALUES {_pairs(len(chunk_pairs))}"
                " ON CONFLICT (contact, sender) DO NOTHING",
                *(value for pair in chunk_pairs for value in pair),
            )
        if unblocks:
            await sql.executemany("DELETE FROM contact_block WHERE contact = $1 AND sender = $2", unblocks)
        if members:
            await sql.executemany(
                'INSERT INTO contact_group_member (contact, "group") SELECT $1, id FROM contact_group'
                ' WHERE id = $2 AND partner = $3 ON CONFLICT (contact, "group") DO NOTHING',
                [(contact, group, partner_id) for contact, group in members],
            )
        ids = sorted(set(contacts.values()))
        for start in range(0, len(ids), CHUNK):
            chunk_ids = ids[start : start + CHUNK]
            marks = ", ".join(f"${i + 2}" for i in range(len(chunk_ids)))
            await sql.execute(f"UPDATE contact SET updated_at = $1 WHERE id IN ({marks})", now, *chunk_ids)
