"""The packs a partner holds and the units they have left (BIL-3, BIL-4): what pricing asks before any plan.

A held pack pays for messages on its channel to its country (every network, or only the MCCMNCs it lists), one unit
per message — per segment on SMS — until it is spent or expires. Among several, the one that expires first is used
first (a pack without an end last). ``HeldUnits`` answers both questions pricing has: can a pack pay for this
destination at all (expansion and the cost preview), and which pack pays for this message now (the engine's claim,
which takes the units).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from core.billing.tables import HeldPack

# The packs that can still pay; {} placeholders: a condition on ``partner``, channel, instant. In id order,
# the one order every transaction that locks or changes several packs takes them in (no deadlock between them).
USABLE = (
    "SELECT id, partner, country_iso, networks, mode, remaining, expires_at FROM pack_purchase"
    " WHERE ({}) AND channel = {} AND remaining > 0 AND (expires_at IS NULL OR expires_at > {}) ORDER BY id"
)


class HeldUnits:
    """One partner's usable packs on one channel, in the order they are used, with the units each has left."""

    __slots__ = ("_packs", "taken")

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._packs: list[tuple[int, str, frozenset[str], str, list[int]]] = []
        for r in sorted(rows, key=lambda r: (r["expires_at"] is None, r["expires_at"] or 0, r["id"])):
            networks = r["networks"]
            if isinstance(networks, str):  # raw statements give the JSON column as its text
                networks = json.loads(networks or "[]")
            self._packs.append((r["id"], r["country_iso"], frozenset(networks or ()), r["mode"], [int(r["remaining"])]))
        self.taken: dict[int, int] = {}  # pack id → units taken through ``take``

    def __bool__(self) -> bool:
        return bool(self._packs)

    def covers(self, country_iso: str, mccmnc: str) -> bool:
        """Some pack pays for messages to this destination (whatever units it has left)."""
        return any(country == country_iso and (not nets or mccmnc in nets) for _, country, nets, _, _ in self._packs)

    def take(self, country_iso: str, mccmnc: str, units: int) -> tuple[int, str] | None:
        """Take ``units`` from the first pack that covers the destination and still has them: (its id, its billing
        mode); None when no pack can pay for the whole message (a message is never split between a pack and a plan)."""
        for pack_id, country, nets, mode, left in self._packs:
            if country == country_iso and (not nets or mccmnc in nets) and left[0] >= units:
                left[0] -= units
                self.taken[pack_id] = self.taken.get(pack_id, 0) + units
                return pack_id, mode
        return None


async def held_units(partner_id: int, channel: str, at: datetime) -> HeldUnits:
    """The partner's usable packs on ``channel`` at ``at``, read without a lock (for estimates, not for taking)."""
    return HeldUnits(await HeldPack.raw(USABLE.format("partner = {}", "{}", "{}"), partner_id, channel, at))
