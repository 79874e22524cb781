"""Chain charging's bookkeeping (TEN-3, BIL-4, BIL-7): the levels above a sender, their ledger rows, their prices.

Each level above the sending partner (up to, not including, the owner) is charged for every message at the price
its own parent sets for it (``core.billing.pricing.Level``). Prices are resolved in Python per destination (a
dict lookup per level), written per message to ``edr_charge`` with the EDRs, and summed per level per batch by
``money.level_amounts`` whenever the sender's money moves.

A level without a plan on the channel that holds usable packs there (``pricing.charged_levels``) is charged too, at
price 0 and only for the destinations its packs cover: its charge rows are what ``packs.spend`` pays from its packs
(Finance's "Messages from packs"); no money moves for it, before or after its packs run out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from core.billing.pricing import Level
from core.billing.tables import LedgerEntry
from core.db import write_transaction
from core.dispatch.tables import CampaignLevel
from core.numbering.services import Destination
from core.rawsql import RawSql
from core.tenancy.tables import Partner

CHARGE_COLUMNS = ("edr", "partner", "ledger_entry", "price")
NO_RATE = "No rate for destination"


class Charged:
    """The levels of one sender with the ledger row each is booked on."""

    __slots__ = ("ledgers", "levels")

    def __init__(self, levels: Sequence[Level], ledgers: Mapping[int, int]) -> None:
        self.levels = list(levels)  # ``pricing.charged_levels``: a level with neither plan nor packs is not there
        self.ledgers = dict(ledgers)

    def prices(self, dest: Destination | None, parts: int) -> list[tuple[int, int, int]] | None:
        """(level partner, its ledger row, price) for one message; None when a level has no rate for ``dest``."""
        if not self.levels:
            return []
        if dest is None:
            return None
        found = []
        for level in self.levels:
            if not level.charges(dest):
                continue  # a level without a plan whose packs do not cover the destination
            rate = level.price(dest)
            if rate is None:
                return None
            found.append((level.partner_id, self.ledgers[level.partner_id], rate * parts))
        return found


async def campaign_ledgers(campaign: Mapping[str, Any], levels: Sequence[Level]) -> dict[int, int]:
    """Each level's Campaign ledger row for this campaign (BIL-7), made once: {level partner id: ledger row id}.

    ``levels`` are the charged ones (``pricing.charged_levels``); the row of a level charged only through its packs
    (no plan) says so (``packs_only``), and rerating leaves it alone."""
    wanted = list(levels)
    if not wanted:
        return {}
    found = {
        r["partner"]: r["ledger_entry"]
        for r in await CampaignLevel.select(CampaignLevel.partner, CampaignLevel.ledger_entry).where(
            CampaignLevel.campaign == campaign["id"]
        )
    }
    missing = [lv for lv in wanted if lv.partner_id not in found]
    if missing:
        client = await Partner.select(Partner.name).where(Partner.id == campaign["partner"]).first()
        client_name = client["name"] if client else ""
        now = datetime.now(UTC)
        async with write_transaction():
            for level in missing:
                partner = (
                    await Partner.select(Partner.balance, Partner.currency)
                    .where(Partner.id == level.partner_id)
                    .first()
                )
                assert partner is not None
                details = {"campaign_id": campaign["id"], "client_id": campaign["partner"], "depth": level.depth}
                if level.prices is None:
                    details["packs_only"] = True
                entry = LedgerEntry(
                    partner=level.partner_id,
                    kind="campaign",
                    amount=0,
                    balance_after=partner["balance"],
                    currency=level.prices.currency if level.prices is not None else partner["currency"],
                    initiator_id=None,
                    initiator_email="",
                    description=f"Campaign {campaign['name']} · {client_name}"[:500],
                    details=details,
                    created_at=now,
                )
                await entry.save()
                slot = f"{campaign['id']}:{level.partner_id}"
                await CampaignLevel.insert(
                    CampaignLevel(
                        slot=slot,
                        campaign=campaign["id"],
                        partner=level.partner_id,
                        depth=level.depth,
                        ledger_entry=entry.id,
                    )
                )
                found[level.partner_id] = entry.id
    return found


async def write_charges(sql: RawSql, ids: Mapping[str, int], charges: Mapping[str, list[tuple[int, int, int]]]) -> None:
    """One ``edr_charge`` row per message per level: ``ids`` maps a key (destination or transaction id) to the EDR's
    id, ``charges`` the same key to its levels' (partner, ledger row, price)."""
    rows = [
        (ids[key], partner, ledger, price)
        for key, levels in charges.items()
        if key in ids
        for partner, ledger, price in levels
    ]
    await sql.bulk("edr_charge", CHARGE_COLUMNS, rows)
