"""Subscription actions of auto-replies (MO-3): a recipient's MO blocks or unblocks a sender ID for it, and can add
it to a group; a number that is not a contact yet becomes one, so the block has something to hold on to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from core.db import is_sqlite, write_transaction
from core.rawsql import RawSql

Subscription = Literal["subscribe", "unsubscribe"]


async def apply_subscription(
    partner_id: int, phone: str, sender_id: int, action: Subscription, group_id: int | None = None
) -> None:
    """Block (unsubscribe) or unblock (subscribe) ``sender_id`` for the partner's contact ``phone``, and add the
    contact to ``group_id`` when it is one of the partner's groups. Repeating it changes nothing more."""
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        # The unique (partner, phone) index settles two MOs of one number at once: one insert, both find it.
        await sql.execute(
            "INSERT INTO contact (partner, phone, first_name, last_name, gender, comments, custom, blocked_all,"
            " created_at, updated_at) VALUES ($1, $2, '', '', '', '', '{}', FALSE, $3, $3)"
            " ON CONFLICT (partner, phone) DO NOTHING",
            partner_id,
            phone,
            now,
        )
        contact = (await sql.column("SELECT id FROM contact WHERE partner = $1 AND phone = $2", partner_id, phone))[0]
        if action == "unsubscribe":
            await sql.execute(
                "INSERT INTO contact_block (contact, sender) VALUES ($1, $2) ON CONFLICT (contact, sender) DO NOTHING",
                contact,
                sender_id,
            )
        else:
            await sql.execute("DELETE FROM contact_block WHERE contact = $1 AND sender = $2", contact, sender_id)
        if group_id is not None:
            await sql.execute(
                'INSERT INTO contact_group_member (contact, "group")'
                " SELECT $1, id FROM contact_group WHERE id = $2 AND partner = $3"
                ' ON CONFLICT (contact, "group") DO NOTHING',
                contact,
                group_id,
                partner_id,
            )
        await sql.execute("UPDATE contact SET updated_at = $1 WHERE id = $2", now, contact)
