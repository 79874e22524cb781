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
from datetime import UTC, datetime, timedelta
from typing import Any

from core.campaigns.tables import Campaign
from core.db import is_sqlite, write_transaction
from core.dispatch.campaign_state import awaiting_hand_over, finish_if_done
from core.dispatch.expansion import CHUNK, Superseded, expander_for, stopped
from core.dispatch.queueing import enqueue_senders
from core.portal import Portal
from core.rawsql import RawSql

log = logging.getLogger(__name__)

# The rows expansion's recipient queries give, from the step before's EDRs: its text as rendered for the recipient
# (null when it was the campaign's text, the same in every step), no contact columns to fill again, and whether the
# contact stopped messages from this step's own sender ID (then it is counted stop-listed here and goes no further).
HAND_OVER = f"""
UPDATE edr SET cascaded = TRUE WHERE id IN (
    SELECT id FROM edr WHERE campaign = $1 AND cascaded = FALSE
    AND (status IN ('UNDELIVERED', 'FAILED') OR (status = 'SENT' AND sent_at < $2))
    ORDER BY id LIMIT {CHUNK})
RETURNING id, destination AS phone, text AS own_text, NULL AS own_fields, NULL AS first_name, NULL AS last_name,
    NULL AS birth_date, NULL AS gender, NULL AS comments, NULL AS custom,
    EXISTS (SELECT 1 FROM contact AS c WHERE c.partner = $3 AND c.phone = edr.destination AND {stopped("$4")})
    AS blocked
"""  # noqa: S608 — CHUNK is our integer, the rest fixed SQL


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
    moved = 0
    while True:
        try:
            async with write_transaction() as tx:
                sql = RawSql(tx.connection, sqlite=is_sqlite())
                status = await sql.column("SELECT status FROM campaign WHERE id = $1", following["id"])
                if status != ["in_progress"]:
                    return moved
                rows = await sql.rows(HAND_OVER, step["id"], cutoff, following["partner"], following["sender_id"])
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
