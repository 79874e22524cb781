"""Cascades (CMP-7): recipients a step did not reach within its TTL are handed on to the next step, in bulk.

Each further channel of a cascade is a campaign of its own (a step: ``parent_id`` the step before, ``root_id`` the
first), so pricing, batches, send jobs, money and receipts work for it as for any campaign. No timer or job per
message: the dispatch sweep calls ``hand_over``, which marks a chunk of the step's due EDRs ``cascaded`` and writes
the next step's EDRs and batches from them in the same transaction (one statement each), so a crash mid-way repeats
nothing and skips nothing. Due: ended undelivered or failed, or sent and still not delivered (or seen) after the
step's TTL. A step has all its recipients once the step before it is expanded and has nothing left to hand on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from core.campaigns.tables import Campaign
from core.db import is_sqlite, write_transaction
from core.dispatch.campaign_state import awaiting_hand_over, finish_if_done
from core.dispatch.expansion import CHUNK, CONTACT_SELECT, Superseded, expander_for, stopped
from core.dispatch.queueing import enqueue_senders
from core.portal import Portal
from core.rawsql import RawSql

log = logging.getLogger(__name__)

# The rows expansion's recipient queries give, from the step before's EDRs: its text as rendered for the recipient
# (null when it was the campaign's text, the same in every step), no contact columns to fill again, and whether the
# contact stopped messages from this step's own sender ID (then it is counted stop-listed here and goes no further).
HAND_OVER = """
UPDATE edr SET cascaded = TRUE WHERE id IN (
    SELECT id FROM edr WHERE campaign = $1 AND cascaded = FALSE
    AND (status IN ('UNDELIVERED', 'FAILED') OR (status = 'SENT' AND sent_at < $2))
    ORDER BY id LIMIT {chunk})
RETURNING id, destination AS phone, {text} AS own_text, NULL AS own_fields, NULL AS first_name, NULL AS last_name,
    NULL AS birth_date, NULL AS gender, NULL AS comments, NULL AS custom,
    EXISTS (SELECT 1 FROM contact AS c WHERE c.partner = $3 AND c.phone = edr.destination AND {stopped})
    AS blocked
"""
# A WhatsApp step sends its own template, filled per recipient; the step after it sends the campaign's text again,
# not the template's. Both render their own text from the recipient's contact, read for the chunk handed over.
CONTACTS = (
    f"SELECT c.phone, {CONTACT_SELECT} FROM contact AS c"  # noqa: S608 — fixed SQL; marks are numbered placeholders
    " WHERE c.partner = $1 AND c.phone IN ({marks})"
)


async def hand_over(portal: Portal) -> int:
    """One pass over every running cascade step that has a next one; how many recipients moved on."""
    steps = await Campaign.select().where(Campaign.fallback_ttl.is_not_null() & (Campaign.status == "in_progress"))
    moved = 0
    for step in steps:
        following = await Campaign.select().where(Campaign.parent_id == step["id"]).first()
        if following is not None and following["status"] == "in_progress":
            moved += await _hand_over(portal, step, following)
    return moved


async def _hand_over(portal: Portal, step: dict[str, Any], following: dict[str, Any]) -> int:
    cutoff = datetime.now(UTC) - timedelta(seconds=step["fallback_ttl"])
    expander = await expander_for(portal, following)
    own = any(_templates(portal, s["channel"]) for s in (step, following))
    # Only our integer and fixed SQL go into the statement.
    hand_over_sql = HAND_OVER.format(chunk=CHUNK, text="NULL" if own else "text", stopped=stopped("$4"))
    moved = 0
    while True:
        try:
            async with write_transaction() as tx:
                sql = RawSql(tx.connection, sqlite=is_sqlite())
                status = await sql.column("SELECT status FROM campaign WHERE id = $1", following["id"])
                if status != ["in_progress"]:
                    return moved
                rows = await sql.rows(hand_over_sql, step["id"], cutoff, following["partner"], following["sender_id"])
                if rows and own:
                    rows = await _with_contacts(sql, following["partner"], rows)
                if rows:
                    await expander.write(sql, "cascade", list(rows))
        except Superseded:  # raised inside the transaction: the EDRs stay with this step for the next pass
            log.warning("campaign %s: another pass is handing over to it; this one stops", following["id"])
            return moved
        if not rows:
            break
        moved += len(rows)
        await enqueue_senders(portal, following["id"])
        if len(rows) < CHUNK:
            break
    fresh = await Campaign.select(Campaign.expanded).where(Campaign.id == step["id"]).first()
    if fresh and fresh["expanded"] and not await awaiting_hand_over(step["id"]):
        # Nothing more can come: the next step may complete once its own messages are final.
        await Campaign.update({Campaign.expanded: True}).where(Campaign.id == following["id"])
        await finish_if_done(portal, following["id"])
    return moved


def _templates(portal: Portal, channel: str) -> bool:
    """Whether the channel sends only vendor-approved templates (WhatsApp)."""
    provider = portal.registries.channels.get(channel)
    return bool(provider and provider.capabilities.templates)


async def _with_contacts(sql: RawSql, partner: int, rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows handed over with their contacts' columns, for a step that renders its own text."""
    phones = sorted({r["phone"] for r in rows})
    marks = ", ".join(f"${n}" for n in range(2, len(phones) + 2))
    found = {c["phone"]: c for c in await sql.rows(CONTACTS.format(marks=marks), partner, *phones)}
    return [{**r, **{k: v for k, v in found.get(r["phone"], {}).items() if k != "phone"}} for r in rows]
