"""The dashboard's numbers (DSH-1): messages by status and by channel, MO by channel and sender ID, the last campaign.

Messages by status and channel come from the EDR rollups (``rollups.py``: per partner and UTC hour, kept by triggers,
exact at any moment); MO messages and the last campaign are counted straight from their rows with the ``(partner,
time)`` and campaign indexes: one grouped query per table. Partner
managers see their whole subtree, or one client of it. Costs add up only within one currency, so a subtree whose
clients bill in several currencies shows counts and asks for a client before it shows money.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import msgspec
from piccolo.query.functions.aggregate import Count, Sum

from core.actor import Actor
from core.billing.tables import PlanAssignment
from core.campaigns.tables import Campaign
from core.dispatch.tables import Edr, InboundRecord
from core.money import from_micros
from core.statistics import rollups
from core.statistics.schemas import EDR_STATUSES
from core.tenancy.scope import in_subtree, visible_partner
from core.tenancy.tables import Partner
from core.web.i18n import N_
from core.web.periods import day_range, today

Period = Literal["today", "7d", "30d", "90d"]
PERIOD_DAYS: dict[str, int] = {"today": 1, "7d": 7, "30d": 30, "90d": 90}
MAX_LISTED_PARTNERS = 1_000
# The MO graph by sender ID names the busiest ones and adds the rest up, so a partner with many stays readable.
TOP_SENDERS = 10
OTHER_SENDERS = "other"
PERIODS = {"today": N_("Today"), "7d": N_("7 days"), "30d": N_("30 days"), "90d": N_("90 days")}


class Slice(msgspec.Struct, kw_only=True):
    """One part of a graph: a status or a channel, its messages and what they cost (None: several currencies)."""

    key: str
    messages: int
    cost: Decimal | None


class Plan(msgspec.Struct, kw_only=True):
    name: str
    channel: str


class Client(msgspec.Struct, kw_only=True):
    id: int
    name: str


class LastCampaign(msgspec.Struct, kw_only=True):
    id: int
    name: str
    status: str
    by_status: list[Slice]


class Dashboard(msgspec.Struct, kw_only=True):
    """What the dashboard shows for one period (days in the user's time zone) and scope."""

    period: Period
    first_day: date
    last_day: date
    start: datetime
    end: datetime
    currency: str | None
    clients: list[Client]
    client_id: int | None
    by_status: list[Slice]
    by_channel: list[Slice]
    total_messages: int
    total_cost: Decimal | None
    mo_by_channel: list[Slice]
    mo_by_sender: list[Slice]
    total_mo: int
    last_campaign: LastCampaign | None
    plans: list[Plan]


def readable_partners(actor: Actor) -> Any:
    """The one rule for whose records a statistics page reads: an end user its own company (as a list of its id),
    a manager (a reseller, the owner) its whole subtree (as a sub-select of the partner table)."""
    if not actor.is_partner_manager:
        return [actor.partner_id]
    return Partner.select(Partner.id).where(in_subtree(actor))


async def scope(actor: Actor, client_id: int | None) -> tuple[Any, set[str], list[Client]]:
    """The one rule for whose numbers a statistics page counts: the partners (ids, or a sub-select of a manager's
    subtree), their currencies, and the clients a manager may pick from. An end user counts its own company; a
    manager its whole subtree, or one client of it (another tenant's client is a 404)."""
    if client_id is not None:
        row = await visible_partner(actor, client_id)  # another tenant's id is a 404
        clients = await subtree_clients(actor) if actor.is_partner_manager else []
        return [int(row["id"])], {str(row["currency"])}, clients
    if not actor.is_partner_manager:
        return readable_partners(actor), {actor.currency}, []
    rows = await Partner.select(Partner.id, Partner.currency).where(in_subtree(actor))
    currencies = {str(r["currency"]) for r in rows}
    if len(rows) <= MAX_LISTED_PARTNERS:
        return [int(r["id"]) for r in rows], currencies, await subtree_clients(actor)
    # A statement holds at most 32,767 parameters on PostgreSQL; a sub-select has no limit but lets the planner
    # leave the (partner, created_at) index, so small subtrees keep their list.
    return readable_partners(actor), currencies, await subtree_clients(actor)


async def subtree_clients(actor: Actor) -> list[Client]:
    """The companies under a manager, by name: what its graphs and EDR table can be narrowed to."""
    rows = await (
        Partner.select(Partner.id, Partner.name)
        .where(in_subtree(actor) & (Partner.id != actor.partner_id))
        .order_by(Partner.name)
    )
    return [Client(id=int(r["id"]), name=str(r["name"])) for r in rows]


def _slices(counts: dict[str, list[int]], order: tuple[str, ...], money: bool) -> list[Slice]:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return [
        Slice(key=k, messages=counts[k][0], cost=from_micros(counts[k][1]) if money else None)
        for k in keys
        if counts[k][0]
    ]


async def _grouped(where: Any) -> list[dict[str, Any]]:
    return await (
        Edr.select(Edr.channel, Edr.status, Count(alias="n"), Sum(Edr.price, alias="cost"))
        .where(where)
        .group_by(Edr.channel, Edr.status)
    )


async def _inbound(partner_ids: Any, start: datetime, end: datetime) -> tuple[list[Slice], list[Slice]]:
    """MO messages by channel and by the sender ID they were sent to (the busiest ``TOP_SENDERS``, then the rest)."""
    rows = await (
        InboundRecord.select(InboundRecord.channel, InboundRecord.destination, Count(alias="n"))
        .where(
            InboundRecord.partner.is_in(partner_ids)
            & (InboundRecord.received_at >= start)
            & (InboundRecord.received_at < end)
        )
        .group_by(InboundRecord.channel, InboundRecord.destination)
    )
    by_channel: dict[str, int] = defaultdict(int)
    by_sender: dict[str, int] = defaultdict(int)
    for r in rows:
        by_channel[r["channel"]] += r["n"]
        by_sender[r["destination"]] += r["n"]
    ranked = sorted(by_sender.items(), key=lambda kv: (-kv[1], kv[0]))
    senders = [Slice(key=k, messages=n, cost=None) for k, n in ranked[:TOP_SENDERS]]
    if rest := sum(n for _, n in ranked[TOP_SENDERS:]):
        senders.append(Slice(key=OTHER_SENDERS, messages=rest, cost=None))
    channels = [Slice(key=k, messages=n, cost=None) for k, n in sorted(by_channel.items(), key=lambda kv: -kv[1])]
    return channels, senders


async def _last_campaign(partner_ids: Any, money: bool) -> LastCampaign | None:
    row = await (
        Campaign.select(Campaign.id, Campaign.name, Campaign.status)
        .where(Campaign.partner.is_in(partner_ids))
        .order_by(Campaign.id, ascending=False)
        .first()
    )
    if row is None:
        return None
    by_status: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in await _grouped(Edr.campaign == row["id"]):
        by_status[r["status"]][0] += r["n"]
        by_status[r["status"]][1] += r["cost"] or 0
    return LastCampaign(
        id=row["id"], name=row["name"], status=row["status"], by_status=_slices(by_status, EDR_STATUSES, money)
    )


async def dashboard(actor: Actor, period: Period = "7d", client_id: int | None = None) -> Dashboard:
    """The actor's graphs: its own traffic, or a manager's subtree (or one client of it)."""
    partner_ids, currencies, clients = await scope(actor, client_id)
    money = len(currencies) == 1
    last_day = today(actor.timezone)
    start, end = day_range(last_day - timedelta(days=PERIOD_DAYS[period] - 1), last_day, actor.timezone)
    assert start is not None and end is not None  # both days are given
    by_status: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in await rollups.by_channel_and_status(partner_ids, start, end):
        for bucket in (by_status[r["status"]], by_channel[r["channel"]]):
            bucket[0] += r["n"]
            bucket[1] += r["cost"] or 0
    mo_by_channel, mo_by_sender = await _inbound(partner_ids, start, end)
    plans = await (
        PlanAssignment.select(PlanAssignment.plan.name.as_alias("name"), PlanAssignment.channel)
        .where(PlanAssignment.partner == actor.partner_id)
        .order_by(PlanAssignment.assigned_at, ascending=False)
        .limit(3)
    )
    return Dashboard(
        period=period,
        first_day=last_day - timedelta(days=PERIOD_DAYS[period] - 1),
        last_day=last_day,
        start=start,
        end=end,
        currency=next(iter(currencies)) if money else None,
        clients=clients,
        client_id=client_id,
        by_status=_slices(by_status, EDR_STATUSES, money),
        by_channel=_slices(by_channel, (), money),
        total_messages=sum(v[0] for v in by_status.values()),
        total_cost=from_micros(sum(v[1] for v in by_status.values())) if money else None,
        mo_by_channel=mo_by_channel,
        mo_by_sender=mo_by_sender,
        total_mo=sum(s.messages for s in mo_by_channel),
        last_campaign=await _last_campaign(partner_ids, money),
        plans=[Plan(name=p["name"], channel=p["channel"]) for p in plans],
    )
