"""Status changes the engine makes to campaigns (pause on money, completion), announced and mailed (DSP-6)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import Column

from core.billing.tables import LedgerEntry
from core.campaigns.states import FINISHED, STATUS_LABELS
from core.campaigns.tables import Campaign
from core.db import json_value, write_transaction
from core.dispatch.tables import Edr
from core.events import CampaignStatusChanged
from core.money import format_money
from core.portal import Portal
from core.tenancy.audit import money
from core.tenancy.tables import AuditEntry, Partner

log = logging.getLogger(__name__)

INSUFFICIENT = "Insufficient balance: top up, then resume the campaign"
# What the client sees when a level above it (its provider) cannot pay: neutral, no word of anyone's balance.
BY_PROVIDER = "Paused by your provider"


async def change_status(
    portal: Portal,
    campaign_id: int,
    from_statuses: set[str],
    to: str,
    reason: str = "",
    *,
    finished: bool = False,
    unless_covered: int | None = None,
    covered_by: int | None = None,
    along: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Move a campaign to ``to`` when it is in one of ``from_statuses``; announce and mail the change.

    A conditional update: of two workers racing to complete a campaign, one wins and one mail goes out. With
    ``unless_covered``, nothing changes when the partner's (or ``covered_by``'s) balance and credit limit cover that
    many micro-units.
    ``along`` runs in the same transaction once the change is made, so nobody sees the new status without it.
    """
    now = datetime.now(UTC)
    async with write_transaction():
        row = await Campaign.select().where(Campaign.id == campaign_id).first()
        if row is None or row["status"] not in from_statuses:
            return False
        if unless_covered is not None:
            payer = row["partner"] if covered_by is None else covered_by
            funds = await Partner.select(Partner.balance, Partner.credit_limit).where(Partner.id == payer)
            if funds and funds[0]["balance"] + funds[0]["credit_limit"] >= unless_covered:
                return False
        values: dict[Column | str, Any] = {Campaign.status: to, Campaign.status_reason: reason[:300]}
        if finished:
            values[Campaign.finished_at] = now
        if to == "in_progress" and row["started_at"] is None:
            values[Campaign.started_at] = now
        changed = (
            await Campaign.update(values)
            .where((Campaign.id == campaign_id) & (Campaign.status == row["status"]))
            .returning(Campaign.id)
        )
        if changed and along is not None:
            await along()
    if not changed:
        return False
    await announce(portal, row, to, reason)
    return True


async def announce(portal: Portal, row: dict, to: str, reason: str) -> None:
    """Tell plugins and the campaign's notification addresses (after the change committed)."""
    from core.mail.services import send_mail

    await portal.emit(
        CampaignStatusChanged(
            campaign_id=row["id"], partner_id=row["partner"], old_status=row["status"], new_status=to, reason=reason
        )
    )
    fresh = await Campaign.select().where(Campaign.id == row["id"]).first() or row
    for address in json_value(row["notify_emails"]) or []:
        try:
            await send_mail(
                portal,
                to=address,
                template="campaign_status",
                partner_id=row["partner"],
                context={
                    "campaign_name": row["name"],
                    "old_label": STATUS_LABELS.get(row["status"], row["status"]),
                    "status_label": STATUS_LABELS.get(to, to),
                    "reason": reason,
                    **{k: fresh[k] for k in ("total", "sent", "delivered", "undelivered", "failed")},
                },
            )
        except Exception:  # a bad address must not undo a status change that already happened
            log.exception("campaign %s: status mail to %s failed", row["id"], address)


async def charged_lines(campaign_id: int, billing_mode: str) -> list[dict[str, Any]]:
    """What the campaign was charged, by country, network, MCCMNC and rate: count, parts and total (micro-units).

    By Submitted every accepted message is charged; By Delivered only the delivered ones (the rest was released).
    """
    charged = "('DELIVERED', 'SEEN')" if billing_mode == "delivered" else "('SENT', 'DELIVERED', 'SEEN', 'UNDELIVERED')"
    return await Edr.raw(
        # A message a pack paid for has no rate on the balance: it shows on a line of its own, rate empty, total 0.
        "SELECT country, network, mccmnc, CASE WHEN pack IS NULL THEN rate END AS rate, count(*) AS n,"  # noqa: S608
        " SUM(parts) AS parts, SUM(price) AS total, MAX(CASE WHEN pack IS NULL THEN 0 ELSE 1 END) AS from_pack FROM edr"
        f" WHERE campaign = {{}} AND status IN {charged}"
        " GROUP BY country, network, mccmnc, CASE WHEN pack IS NULL THEN rate END ORDER BY country, network",
        campaign_id,
    )


async def _write_ledger_details(campaign_id: int) -> None:
    """Keep the finished campaign's breakdown on its ledger row, where finance history and exports read it."""
    await _write_level_packs(campaign_id)
    row = (
        await Campaign.select(Campaign.ledger_entry_id, Campaign.billing_mode).where(Campaign.id == campaign_id).first()
    )
    if row is None or row["ledger_entry_id"] is None:
        return
    lines = [
        {
            "country": r["country"],
            "network": r["network"],
            "mccmnc": r["mccmnc"],
            # PostgreSQL sums come back as Decimal: integers keep the ledger's JSON exact and plain.
            "quantity": int(r["n"]),
            "parts": int(r["parts"]),
            "rate": None if r["rate"] is None else int(r["rate"]),
            "total": int(r["total"]),
            "from_pack": bool(r["from_pack"]),
        }
        for r in await charged_lines(campaign_id, row["billing_mode"])
    ]
    packs = await Edr.raw("SELECT SUM(parts) AS units FROM edr WHERE campaign = {} AND pack IS NOT NULL", campaign_id)
    details = {"campaign_id": campaign_id, "lines": lines, "from_packs": int(packs[0]["units"] or 0)}
    await LedgerEntry.update({LedgerEntry.details: details}).where(LedgerEntry.id == row["ledger_entry_id"])


async def _write_level_packs(campaign_id: int) -> None:
    """Each level's Campaign row of the campaign (chain charging) carries the units its own packs paid with, as the
    sender's row does: what Finance shows as "Messages from packs" at every level."""
    used = await Edr.raw(
        "SELECT c.ledger_entry, SUM(e.parts) AS units FROM edr_charge AS c JOIN edr AS e ON e.id = c.edr"
        " WHERE e.campaign = {} AND c.pack IS NOT NULL GROUP BY c.ledger_entry",
        campaign_id,
    )
    for r in used:
        entry = await LedgerEntry.select(LedgerEntry.details).where(LedgerEntry.id == r["ledger_entry"]).first()
        details = json_value(entry["details"]) if entry else None
        details = {**(details or {}), "from_packs": int(r["units"])}
        await LedgerEntry.update({LedgerEntry.details: details}).where(LedgerEntry.id == r["ledger_entry"])


async def pause_for_balance(portal: Portal, campaign_id: int, needed: int, partner_id: int | None = None) -> bool:
    """Pause the campaign for want of ``needed`` micro-units of ``partner_id`` (default: the campaign's own
    partner), unless that balance covers them by now.

    The verdict came from a debit refused a moment ago: a top-up and a resume may have committed since, and a
    stale verdict must not pause the campaign again. Checked in the pause's own transaction.

    When the balance that ran out is a level's above the campaign's partner (its reseller's), the campaign's
    reason is the neutral ``BY_PROVIDER`` and the reseller's audit log says which balance ran out.
    """
    row = await Campaign.select(Campaign.partner, Campaign.name).where(Campaign.id == campaign_id).first()
    if row is None or partner_id is None or partner_id == row["partner"]:
        return await change_status(portal, campaign_id, {"in_progress"}, "paused", INSUFFICIENT, unless_covered=needed)

    async def tell_provider() -> None:
        await _record_provider_short(campaign_id, row, partner_id, needed)

    return await change_status(
        portal,
        campaign_id,
        {"in_progress"},
        "paused",
        BY_PROVIDER,
        unless_covered=needed,
        covered_by=partner_id,
        along=tell_provider,
    )


async def _record_provider_short(campaign_id: int, campaign: dict[str, Any], partner_id: int, needed: int) -> None:
    """An audit row in the level's own log: whose campaign paused and that its (the level's) balance ran out."""
    level = await Partner.select(Partner.name, Partner.path, Partner.currency).where(Partner.id == partner_id).first()
    client = await Partner.select(Partner.name).where(Partner.id == campaign["partner"]).first()
    if level is None:
        return
    summary = (
        f"Campaign {campaign['name']} of {client['name'] if client else ''} paused: the balance of"
        f" {level['name']} and its credit limit do not cover {format_money(needed, level['currency'])}"
    )
    await AuditEntry.insert(
        AuditEntry(
            partner=partner_id,
            partner_path=level["path"],
            user_id=None,
            user_email="",
            action="campaign.provider_balance",
            object_type="campaign",
            object_id=campaign_id,
            summary=summary[:500],
            details={
                "client_id": campaign["partner"],
                "partner_id": partner_id,
                "needed_micros": needed,
                # What the log's sentence says (core.tenancy.audit_sentences): no person acted, the engine did.
                "actor_name": "",
                "object_name": campaign["name"],
                "params": {
                    "client": client["name"] if client else "",
                    "level": level["name"],
                    "amount": money(needed, level["currency"]),
                },
            },
            created_at=datetime.now(UTC),
        )
    )


async def awaiting_hand_over(step_id: int) -> bool:
    """Whether any message of a cascade step may still go on to the next step: not delivered or seen, not handed on
    (core.dispatch.cascade)."""
    rows = await Campaign.raw(
        "SELECT 1 AS waiting FROM edr WHERE campaign = {} AND cascaded = FALSE"
        " AND status NOT IN ('DELIVERED', 'SEEN') LIMIT 1",
        step_id,
    )
    return bool(rows)


async def finish_if_done(portal: Portal, campaign_id: int) -> bool:
    """Complete an in-progress campaign whose every message is final (DSP-6); Failed when none was accepted.

    A cascade step with a next one (CMP-7) is done once nothing of it may still go on and the next step is done; the
    step before is then looked at again, so the cascade's first step, the campaign users see, completes last.
    """
    row = await Campaign.select().where(Campaign.id == campaign_id).first()
    if row is None or row["status"] != "in_progress" or not row["expanded"]:
        return False
    following = None
    if row["fallback_ttl"] is not None:
        following = await Campaign.select(Campaign.status).where(Campaign.parent_id == campaign_id).first()
        if (following is not None and following["status"] not in FINISHED) or await awaiting_hand_over(campaign_id):
            return False
    elif row["delivered"] + row["undelivered"] + row["failed"] < row["total"]:
        return False

    # The ledger row's breakdown commits with the final status: whoever sees "completed" finds it written.
    def breakdown() -> Awaitable[None]:
        return _write_ledger_details(campaign_id)

    if row["total"] and row["sent"] == 0 and (following is None or following["status"] == "failed"):
        done = await change_status(
            portal,
            campaign_id,
            {"in_progress"},
            "failed",
            "No message was accepted for delivery",
            finished=True,
            along=breakdown,
        )
    else:
        done = await change_status(portal, campaign_id, {"in_progress"}, "completed", finished=True, along=breakdown)
    if done and row["parent_id"] is not None:
        await finish_if_done(portal, row["parent_id"])
    return done


async def refresh_ledger_details(campaign_id: int) -> None:
    """Rewrite a finished campaign's breakdown after a late charge; a running one gets it when it finishes."""
    status = await Campaign.select(Campaign.status).where(Campaign.id == campaign_id).first()
    if status is not None and status["status"] not in ("in_progress", "paused"):
        await _write_ledger_details(campaign_id)
