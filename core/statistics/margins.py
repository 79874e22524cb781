"""A reseller's margin per client over a period (TEN-3, BIL-4): what its clients paid it against what it paid above.

For every message sent in the period by a company in the reseller's subtree and charged there (accepted, or By
Delivered delivered), the reseller earned what the partner right below it on the way to the sender paid for it (the
sender's own price, or the level charge of the sub-reseller in between) and paid its own level charge. A charge a
pack paid for moves no money and counts as 0 on that side; packs the reseller sold its clients in the period count
as revenue of their own. The figures come from the message records (``edr`` and ``edr_charge``), read per sending
company through the (partner, created_at) index, so they are exact for API messages and campaigns alike.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import msgspec

from core.actor import Actor
from core.billing.tables import HeldPack, Pack
from core.dispatch.tables import Edr
from core.errors import InvalidInput, NotFound
from core.money import from_micros
from core.tenancy.scope import require_admin
from core.tenancy.tables import Partner
from core.web.i18n import N_
from core.web.periods import day_range

MAX_DAYS = 366
# A message counted where it was charged: By Submitted once accepted, By Delivered once delivered.
CHARGED = (
    "((e.charge_on_delivery AND e.status IN ('DELIVERED', 'SEEN'))"
    " OR (NOT e.charge_on_delivery AND e.status IN ('SENT', 'DELIVERED', 'SEEN', 'UNDELIVERED')))"
)
SUMS = f"""
SELECT count(*) AS n,
    SUM(CASE WHEN c.pack IS NULL THEN c.price ELSE 0 END) AS cost,
    SUM(CASE WHEN b.partner IS NULL THEN e.price WHEN b.pack IS NULL THEN b.price ELSE 0 END) AS revenue
FROM edr AS e
JOIN edr_charge AS c ON c.edr = e.id AND c.partner = {{}}
LEFT JOIN edr_charge AS b ON b.edr = e.id AND b.partner = {{}}
WHERE e.partner = {{}} AND e.created_at >= {{}} AND e.created_at < {{}} AND {CHARGED}
"""  # noqa: S608 — fixed SQL; {} are placeholders


class ClientMargin(msgspec.Struct, kw_only=True):
    """One direct client of the reseller, its own clients' messages included."""

    partner_id: int
    name: str
    kind: str
    messages: int
    revenue: Decimal
    """What the client paid for its (and its clients') messages, at the prices the reseller set."""
    packs_sold: Decimal
    cost: Decimal
    """What the reseller paid its own provider for those messages."""
    margin: Decimal
    margin_pct: Decimal | None
    """Margin ÷ (revenue + packs sold), in per cent; none without revenue."""


class MarginReport(msgspec.Struct, kw_only=True):
    date_from: date
    date_to: date
    currency: str
    clients: list[ClientMargin]
    total: ClientMargin


def _pct(margin: int, income: int) -> Decimal | None:
    return (Decimal(margin) * 100 / Decimal(income)).quantize(Decimal("0.1")) if income else None


def _row(partner_id: int, name: str, kind: str, n: int, revenue: int, packs: int, cost: int) -> ClientMargin:
    margin = revenue + packs - cost
    return ClientMargin(
        partner_id=partner_id,
        name=name,
        kind=kind,
        messages=n,
        revenue=from_micros(revenue),
        packs_sold=from_micros(packs),
        cost=from_micros(cost),
        margin=from_micros(margin),
        margin_pct=_pct(margin, revenue + packs),
    )


async def margins(actor: Actor, date_from: date, date_to: date) -> MarginReport:
    """The reseller's margin per direct client over the days ``date_from``..``date_to`` in the user's time zone.

    Raises:
        NotFound: the actor is not a reseller's user (the owner has no provider above it; end users no clients).
        InvalidInput: the period is reversed or longer than a year.
    """
    if actor.partner_kind != "reseller":
        raise NotFound("Page")
    require_admin(actor, "see margins")
    if date_to < date_from:
        raise InvalidInput(N_("The period ends before it starts"), field="date_to")
    if (date_to - date_from).days >= MAX_DAYS:
        raise InvalidInput(N_("The period is longer than a year"), field="date_to")
    start, end = day_range(date_from, date_to, actor.timezone)
    below = await Partner.select(Partner.id, Partner.name, Partner.kind, Partner.path).where(
        Partner.path.like(f"{actor.partner_path}%") & (Partner.id != actor.partner_id)
    )
    depth = actor.partner_path.count("/")
    children = {p["id"]: p for p in below if p["path"].count("/") == depth + 1}
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # direct client → [messages, revenue, cost]
    for sender in below:
        # The partner right below the reseller on the way to the sender: its own client.
        client = int(sender["path"][len(actor.partner_path) :].split("/")[0])
        level_below = 0 if client == sender["id"] else client
        found = await Edr.raw(SUMS, actor.partner_id, level_below, sender["id"], start, end)
        if found and found[0]["n"]:
            sums = totals[client]
            sums[0] += int(found[0]["n"])
            sums[1] += int(found[0]["revenue"] or 0)
            sums[2] += int(found[0]["cost"] or 0)
    offers = [r["id"] for r in await Pack.select(Pack.id).where(Pack.partner == actor.partner_id)]
    packs: dict[int, int] = defaultdict(int)
    if offers:
        sold = await HeldPack.select(HeldPack.partner, HeldPack.price).where(
            HeldPack.pack_id.is_in(offers) & (HeldPack.purchased_at >= start) & (HeldPack.purchased_at < end)
        )
        for r in sold:
            packs[r["partner"]] += r["price"]
    clients = [
        _row(pid, p["name"], p["kind"], totals[pid][0], totals[pid][1], packs[pid], totals[pid][2])
        for pid, p in sorted(children.items(), key=lambda item: item[1]["name"].lower())
        if pid in totals or packs.get(pid)
    ]
    n = sum(s[0] for s in totals.values())
    revenue = sum(s[1] for s in totals.values())
    cost = sum(s[2] for s in totals.values())
    total = _row(actor.partner_id, actor.partner_name, "total", n, revenue, sum(packs.values()), cost)
    return MarginReport(date_from=date_from, date_to=date_to, currency=actor.currency, clients=clients, total=total)
