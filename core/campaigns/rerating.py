"""Rerating (BIL-10): after a retroactive rate change the owner prices a finished campaign again at every level.

Every charged message is priced again with the rates valid at the campaign's start as they stand now (each level's
plan on the channel, the sender's and those of the resellers above it). The difference is booked per level as one
Rerating ledger row that moves its balance, and the EDRs, the levels' charges and the campaign's cost take the new
prices, all in one transaction. Messages a pack paid for, late deliveries that were let go free, and a level that
had no plan at the campaign's start (charged only through its packs) are left as they are. Prices are changed per
group of messages with the same destination, rate and length (one statement each, never one per message), so a
campaign of millions reprices in a few statements. Rerating again without a further rate change finds nothing to
book.
"""

# ruff: noqa: S608 — statements interpolate only placeholders ($n) and fixed SQL conditions, never values.

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from core.actor import Actor
from core.billing.pricing import PriceList, chain_levels, price_list
from core.billing.services import change_balance
from core.billing.tables import LedgerEntry
from core.campaigns.tables import Campaign
from core.db import is_sqlite, json_value, write_transaction
from core.dispatch.tables import CampaignLevel
from core.errors import Conflict, NotFound
from core.money import format_money, from_micros
from core.numbering.services import Destination
from core.rawsql import RawSql
from core.tenancy import audit
from core.tenancy.scope import in_subtree, require_owner
from core.tenancy.tables import Partner
from core.web.i18n import N_

FINISHED = ("completed", "canceled", "failed")
# What a message was charged for (as in campaign_state.charged_lines).
CHARGED = {
    "delivered": "e.status IN ('DELIVERED', 'SEEN')",
    "submitted": "e.status IN ('SENT', 'DELIVERED', 'SEEN', 'UNDELIVERED')",
}
# The sender paid its plan price: not a pack, and not a late delivery let go free (price 0 beside a rate).
SENDER_PAID = "e.pack IS NULL AND e.rate IS NOT NULL AND e.price = e.rate * e.parts"
# A level paid its price (unless its own pack did) whatever paid the sender, its client's pack included, but not for
# a late delivery let go free.
NOT_LET_GO = "NOT (e.pack IS NULL AND e.price <> COALESCE(e.rate, 0) * e.parts)"


class RerateLevel(msgspec.Struct, kw_only=True):
    """What rerating changes for one partner: the sender (depth 0) or a level above it."""

    partner_id: int
    partner_name: str
    depth: int
    messages: int
    before: Decimal
    after: Decimal
    difference: Decimal
    """Added to the charge: positive costs the partner more, negative pays it back."""
    currency: str


class RerateView(msgspec.Struct, kw_only=True):
    """A campaign's rerating: each level's charge before and after, and whether anything changes (or changed)."""

    campaign_id: int
    campaign_name: str
    levels: list[RerateLevel]
    changed: bool
    applied: bool = False


class _Group(msgspec.Struct):
    """Messages of one campaign at one level with the same destination, length and price: repriced together."""

    campaign_id: int
    country_iso: str
    country: str
    mccmnc: str
    network: str
    parts: int
    old: int
    new: int
    count: int


async def _campaigns(actor: Actor, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign (a first step) with its cascade's later steps, when it is in the actor's subtree."""
    root = (
        await Campaign.select(*Campaign.all_columns(), Campaign.partner.path.as_alias("partner_path"))
        .where((Campaign.id == campaign_id) & Campaign.parent_id.is_null() & in_subtree(actor, Campaign.partner.path))
        .first()
    )
    if root is None:
        raise NotFound("Campaign")
    steps = await Campaign.select().where(Campaign.root_id == campaign_id).order_by(Campaign.id)
    return [root, *steps]


def _reprice(rows: Sequence[Mapping[str, Any]], prices: PriceList | None, campaign_id: int) -> list[_Group]:
    """Each (destination, parts, old unit price) group's new unit price; a destination without a rate now keeps
    its old price (rerating corrects prices, it does not make messages free)."""
    groups = []
    for r in rows:
        mccmnc = r["mccmnc"] or ""
        dest = Destination(r["country_iso"], r["country"], mccmnc[:3], mccmnc[3:], r["network"])
        new = prices.price(dest) if prices is not None else None
        old = int(r["unit"])
        groups.append(
            _Group(
                campaign_id,
                r["country_iso"],
                r["country"],
                mccmnc,
                r["network"],
                int(r["parts"]),
                old,
                old if new is None else new,
                int(r["n"]),
            )
        )
    return groups


async def _sender_groups(sql: RawSql, campaign: dict[str, Any], at: datetime) -> list[_Group]:
    rows = await sql.rows(
        "SELECT e.country_iso, e.country, e.mccmnc, e.network, e.parts, e.rate AS unit, count(*) AS n FROM edr AS e"
        f" WHERE e.campaign = $1 AND {CHARGED[campaign['billing_mode'] or 'submitted']} AND {SENDER_PAID}"
        " GROUP BY e.country_iso, e.country, e.mccmnc, e.network, e.parts, e.rate",
        campaign["id"],
    )
    return _reprice(rows, await price_list(campaign["partner"], campaign["channel"], at), campaign["id"])


async def _level_groups(sql: RawSql, campaign: dict[str, Any], partner_id: int, prices: PriceList) -> list[_Group]:
    rows = await sql.rows(
        "SELECT e.country_iso, e.country, e.mccmnc, e.network, e.parts, c.price / e.parts AS unit, count(*) AS n"
        " FROM edr_charge AS c JOIN edr AS e ON e.id = c.edr"
        f" WHERE e.campaign = $1 AND c.partner = $2 AND {CHARGED[campaign['billing_mode'] or 'submitted']}"
        f" AND c.pack IS NULL AND {NOT_LET_GO}"
        " GROUP BY e.country_iso, e.country, e.mccmnc, e.network, e.parts, c.price / e.parts",
        campaign["id"],
        partner_id,
    )
    return _reprice(rows, prices, campaign["id"])


async def _plan(sql: RawSql, campaigns: list[dict[str, Any]]) -> dict[tuple[int, int], list[_Group]]:
    """{(partner, depth): its groups} over the campaign and its steps, priced at each one's start."""
    found: dict[tuple[int, int], list[_Group]] = defaultdict(list)
    for c in campaigns:
        at = c["started_at"] or c["created_at"]
        found[c["partner"], 0] += await _sender_groups(sql, c, at)
        level_rows = await CampaignLevel.select().where(CampaignLevel.campaign == c["id"])
        if not level_rows:
            continue
        levels = {lv.partner_id: lv for lv in await chain_levels(c["partner"], c["channel"], at)}
        packs_only = await _packs_only([row["ledger_entry"] for row in level_rows])
        for row in level_rows:
            level = levels.get(row["partner"])
            # A level charged only through its packs (no plan at the campaign's start) paid nothing: nothing to rerate,
            # even if its parent gave it a plan since.
            if level is not None and level.prices is not None and row["ledger_entry"] not in packs_only:
                found[row["partner"], row["depth"]] += await _level_groups(sql, c, row["partner"], level.prices)
    return found


async def _packs_only(ledger_ids: list[int]) -> set[int]:
    """Those of the levels' Campaign rows made for a level without a plan (``chain.campaign_ledgers``)."""
    rows = await LedgerEntry.select(LedgerEntry.id, LedgerEntry.details).where(LedgerEntry.id.is_in(ledger_ids or [0]))
    return {r["id"] for r in rows if (json_value(r["details"]) or {}).get("packs_only")}


async def _names(partner_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = await Partner.select(Partner.id, Partner.name, Partner.currency).where(Partner.id.is_in(partner_ids or [0]))
    return {r["id"]: r for r in rows}


def _levels(plan: dict[tuple[int, int], list[_Group]], partners: dict[int, dict[str, Any]]) -> list[RerateLevel]:
    levels = []
    for (partner_id, depth), groups in sorted(plan.items(), key=lambda item: item[0][1]):
        before = sum(g.old * g.parts * g.count for g in groups)
        after = sum(g.new * g.parts * g.count for g in groups)
        partner = partners[partner_id]
        levels.append(
            RerateLevel(
                partner_id=partner_id,
                partner_name=partner["name"],
                depth=depth,
                messages=sum(g.count for g in groups),
                before=from_micros(before),
                after=from_micros(after),
                difference=from_micros(after - before),
                currency=partner["currency"],
            )
        )
    return levels


async def _apply_group(sql: RawSql, partner_id: int, depth: int, g: _Group, mode: str) -> None:
    """Give one group its new price: the EDRs' rate and price (the sender), or the level's charges."""
    same = f"e.campaign = $1 AND e.country_iso = $2 AND e.mccmnc = $3 AND e.parts = $4 AND {CHARGED[mode]}"
    if depth == 0:
        await sql.execute(
            "UPDATE edr SET rate = $6::bigint, price = $6::bigint * parts"
            f" WHERE id IN (SELECT e.id FROM edr AS e WHERE {same} AND {SENDER_PAID} AND e.rate = $5)",
            g.campaign_id,
            g.country_iso,
            g.mccmnc,
            g.parts,
            g.old,
            g.new,
        )
        await sql.execute(
            "UPDATE campaign SET cost = cost + $1 WHERE id = $2", (g.new - g.old) * g.parts * g.count, g.campaign_id
        )
        return
    await sql.execute(
        f"UPDATE edr_charge SET price = $6 WHERE partner = $7 AND pack IS NULL AND price = $5"
        f" AND edr IN (SELECT e.id FROM edr AS e WHERE {same} AND {NOT_LET_GO})",
        g.campaign_id,
        g.country_iso,
        g.mccmnc,
        g.parts,
        g.old * g.parts,
        g.new * g.parts,
        partner_id,
    )


def _lines(groups: list[_Group]) -> list[dict[str, Any]]:
    """The Rerating row's breakdown: per changed group, how many, the new rate and the difference it made."""
    return [
        {
            "country": g.country,
            "network": g.network,
            "mccmnc": g.mccmnc,
            "quantity": g.count,
            "parts": g.parts * g.count,
            "rate": g.new,
            "total": (g.new - g.old) * g.parts * g.count,
        }
        for g in groups
        if g.new != g.old
    ]


async def rerate_campaign(actor: Actor, campaign_id: int, *, apply: bool = False, ip: str = "") -> RerateView:
    """What rerating the finished campaign (and its cascade's steps) changes at each level; ``apply`` books it.

    Raises:
        NotFound: no such campaign in the actor's subtree (or the actor is not the owner).
        Conflict: the campaign has not finished, or a balance cannot take the extra charge (named).
    """
    require_owner(actor, "rerate campaigns")
    campaigns = await _campaigns(actor, campaign_id)
    if any(c["status"] not in FINISHED for c in campaigns):
        raise Conflict(N_("A campaign can be rerated once it has finished (completed, canceled or failed)"))
    root = campaigns[0]
    modes = {c["id"]: c["billing_mode"] or "submitted" for c in campaigns}
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        plan = await _plan(sql, campaigns)
        partners = await _names([partner for partner, _ in plan])
        view = RerateView(
            campaign_id=root["id"],
            campaign_name=root["name"],
            levels=_levels(plan, partners),
            changed=any(g.new != g.old for groups in plan.values() for g in groups),
        )
        if not apply or not view.changed:
            return view
        for (partner_id, depth), groups in sorted(plan.items()):
            changed = [g for g in groups if g.new != g.old]
            if not changed:
                continue
            for g in changed:
                await _apply_group(sql, partner_id, depth, g, modes[g.campaign_id])
            await _book(actor, root, partners[partner_id], depth, changed)
        await audit.record(
            actor,
            "campaign.rerate",
            f"Rerated campaign {root['name']}",
            object_type="campaign",
            object_id=root["id"],
            details={"levels": [msgspec.to_builtins(level) for level in view.levels]},
            ip=ip,
            name=root["name"],
            params={
                "changes": "; ".join(
                    f"{lv.partner_name} {'+' if lv.difference > 0 else ''}{lv.difference} {lv.currency}"
                    for lv in view.levels
                    if lv.difference
                )
            },
        )
    view.applied = True
    return view


async def _book(actor: Actor, root: dict[str, Any], partner: dict[str, Any], depth: int, groups: list[_Group]) -> None:
    """The level's Rerating ledger row and balance change; refused whole when its credit limit cannot take it."""
    extra = sum((g.new - g.old) * g.parts * g.count for g in groups)
    try:
        await change_balance(
            partner["id"],
            -extra,
            kind="rerating",
            description=f"Rerating of campaign {root['name']}"[:500],
            initiator=actor,
            details={"campaign_id": root["id"], "depth": depth, "lines": _lines(groups)},
        )
    except Conflict as exc:
        raise Conflict(
            f"The balance of {partner['name']} cannot take the extra {format_money(extra, partner['currency'])}"
            " within its credit limit: nothing was rerated"
        ) from exc


class FinishedCampaign(msgspec.Struct, kw_only=True):
    """A finished campaign the owner may rerate, as the Rerating page lists it."""

    id: int
    name: str
    partner_name: str
    channel: str
    finished_at: datetime | None
    cost: Decimal
    currency: str


async def recent_finished(actor: Actor, limit: int = 20) -> list[FinishedCampaign]:
    """The latest finished campaigns (first steps) in the owner's subtree, newest first."""
    require_owner(actor, "rerate campaigns")
    rows = (
        await Campaign.select(
            Campaign.id,
            Campaign.name,
            Campaign.partner.name.as_alias("partner_name"),
            Campaign.channel,
            Campaign.finished_at,
            Campaign.cost,
            Campaign.currency,
        )
        .where(
            Campaign.status.is_in(list(FINISHED))
            & Campaign.parent_id.is_null()
            & in_subtree(actor, Campaign.partner.path)
        )
        .order_by(Campaign.id, ascending=False)
        .limit(limit)
    )
    return [
        FinishedCampaign(
            id=r["id"],
            name=r["name"],
            partner_name=r["partner_name"],
            channel=r["channel"],
            finished_at=r["finished_at"],
            cost=from_micros(r["cost"]),
            currency=r["currency"],
        )
        for r in rows
    ]
