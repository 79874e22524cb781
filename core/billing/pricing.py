"""Pricing a message for the dispatch engine (BIL-4): the partner's plan on the channel, its rate at an instant.

Packs (BIL-3) pay before any plan: ``core.billing.pack_units`` says which, and the engine takes their units when a
batch is billed (``core.dispatch.packs``); a message no pack pays for is priced here.

The levels above a sender (``charged_levels``) are those its parent set a plan for on the channel, and those without
a plan that hold usable packs on it ("its pack first, else its plan", BIL-4): such a level is charged price 0, so its
packs pay for the messages they cover and no money ever moves for it — once they run out (or for a destination they
do not cover) the message still goes and the level is not charged, as a level with neither pack nor plan never is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.billing.pack_units import HeldUnits, held_units
from core.billing.tables import PlanAssignment, Rate
from core.numbering.services import Destination
from core.tenancy.tables import Partner

_MIN = datetime.min.replace(tzinfo=UTC)


class PriceList:
    """The rates of one plan that are valid at one instant, ready for many lookups.

    ``price(dest)``: the MCCMNC rate, else the country's All networks rate, else None ("no rate for
    destination": the message fails and is not charged). Prices are micro-units of ``currency`` per unit
    (an SMS segment).
    """

    __slots__ = ("_country", "_network", "at", "currency", "mode", "plan_id")

    def __init__(self, *, plan_id: int, mode: str, currency: str, at: datetime, rates: list[dict[str, Any]]) -> None:
        self.plan_id = plan_id
        self.mode = mode
        self.currency = currency
        self.at = at
        self._network: dict[tuple[str, str], int] = {}
        self._country: dict[str, int] = {}
        # Overlapping periods are refused when rates are stored; should any remain, the latest start wins.
        for r in sorted(rates, key=lambda r: _utc(r["valid_from"]) or _MIN):
            if r["mnc"]:
                self._network[r["mcc"], r["mnc"]] = r["price"]
            else:
                self._country[r["country_iso"]] = r["price"]

    def price(self, dest: Destination) -> int | None:
        if dest.mnc:
            found = self._network.get((dest.mcc, dest.mnc))
            if found is not None:
                return found
        return self._country.get(dest.country_iso)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def price_list(partner_id: int, channel: str, at: datetime) -> PriceList | None:
    """The partner's plan for ``channel`` with the rates valid at ``at``; None when it has no plan there."""
    at = _utc(at) or datetime.now(UTC)
    plan = (
        await PlanAssignment.select(
            PlanAssignment.plan.id.as_alias("id"),
            PlanAssignment.plan.mode.as_alias("mode"),
            PlanAssignment.plan.currency.as_alias("currency"),
        )
        .where(PlanAssignment.slot == f"{partner_id}:{channel}")
        .first()
    )
    if plan is None:
        return None
    rows = await Rate.select(Rate.country_iso, Rate.mcc, Rate.mnc, Rate.price, Rate.valid_from).where(
        (Rate.plan == plan["id"])
        & (Rate.valid_from.is_null() | (Rate.valid_from <= at))
        & (Rate.valid_to.is_null() | (Rate.valid_to > at))
    )
    return PriceList(plan_id=plan["id"], mode=plan["mode"], currency=plan["currency"], at=at, rates=rows)


class Level:
    """One partner above the sender in the chain (TEN-3, BIL-4), charged at the price its own parent sets for it.

    ``prices`` is the level's plan; its own packs pay first, taken when a batch is billed (``core.dispatch.packs``).
    ``price()`` is the one place that asks the plan. ``prices`` None means the parent set the level no plan on the
    channel: the level costs nothing, and is charged at all only where ``held`` (its usable packs on the channel, read
    by ``charged_levels``) covers the destination, so that those packs pay (a plan without a rate for a destination,
    by contrast, fails the message "No rate").
    """

    __slots__ = ("depth", "held", "partner_id", "prices")

    def __init__(self, partner_id: int, depth: int, prices: PriceList | None, held: HeldUnits | None = None) -> None:
        self.partner_id = partner_id
        self.depth = depth
        self.prices = prices
        self.held = held

    def price(self, dest: Destination) -> int | None:
        """Micro-units per unit for ``dest``; None: no rate (the message cannot be sent)."""
        return self.prices.price(dest) if self.prices is not None else 0

    def charges(self, dest: Destination) -> bool:
        """Whether the level is charged for a message to ``dest`` at all: always with a plan; without one only where
        its packs cover the destination (its charge at price 0 is what the packs pay for)."""
        if self.prices is not None:
            return True
        return self.held is not None and self.held.covers(dest.country_iso, dest.mcc + dest.mnc)


async def chain_levels(partner_id: int, channel: str, at: datetime) -> list[Level]:
    """The partners above ``partner_id`` that are charged for its messages, deepest (its parent) first.

    Every ancestor but the root (the owner, who has no parent to pay) is a level; ``depth`` 1 is the parent.
    """
    levels: list[Level] = []
    row = await Partner.select(Partner.parent).where(Partner.id == partner_id).first()
    parent = row["parent"] if row else None
    depth = 0
    while parent is not None:
        up = await Partner.select(Partner.id, Partner.parent).where(Partner.id == parent).first()
        if up is None or up["parent"] is None:
            break  # the root is never charged
        depth += 1
        levels.append(Level(up["id"], depth, await price_list(up["id"], channel, at)))
        parent = up["parent"]
    return levels


async def charged_levels(partner_id: int, channel: str, at: datetime, now: datetime) -> list[Level]:
    """The levels charged for ``partner_id``'s messages on ``channel``, deepest first: those with a plan at ``at``,
    and those without one that hold usable packs on the channel at ``now`` (price 0, their packs pay). A level with
    neither is left out: no ledger row, no charge rows, as if it were not there."""
    found = []
    for level in await chain_levels(partner_id, channel, at):
        if level.prices is None:
            level.held = await held_units(level.partner_id, channel, now)
            if not level.held:
                continue
        found.append(level)
    return found
