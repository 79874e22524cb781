"""The SMS world of the engine tests, reused: the public API sends through the same stand-in SMSC."""

from __future__ import annotations

import asyncio
from typing import Any

from core.dispatch.tables import Edr
from core.tenancy.tables import Partner
from tests.core.dispatch.conftest import FUNDS, SmsWorld, fund, sms  # noqa: F401 — the fixture, shared

__all__ = ["FUNDS", "SmsWorld", "api_edrs", "balance", "bearer", "fund", "wait_for_edrs"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def api_edrs(partner_id: int | None = None) -> list[dict[str, Any]]:
    query = Edr.select().where(Edr.campaign.is_null()).order_by(Edr.id)
    if partner_id is not None:
        query = query.where(Edr.partner == partner_id)
    return await query


async def balance(partner_id: int) -> int:
    row = await Partner.select(Partner.balance).where(Partner.id == partner_id).first()
    return int(row["balance"])


async def wait_for_edrs(statuses: set[str], count: int, limit_s: float = 30.0) -> list[dict[str, Any]]:
    """Poll until ``count`` API EDRs are in ``statuses`` (the session's worker sends them)."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        rows = await api_edrs()
        if sum(1 for r in rows if r["status"] in statuses) >= count:
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"API EDRs not all in {statuses}: {[(r['destination'], r['status']) for r in rows]}")
        await asyncio.sleep(0.05)
