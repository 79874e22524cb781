"""saq tasks of the statistics domain: write one EDR export, remove expired export files, fold the EDR rollups."""

from __future__ import annotations

from typing import Any

from core.statistics import exports, rollups


async def run_edr_export(ctx: dict[str, Any], *, task_id: int) -> str:
    """Write the file of export task ``task_id`` (skipped unless it is waiting)."""
    return await exports.run_export(ctx["portal"], task_id)


async def remove_expired_exports(ctx: dict[str, Any]) -> int:
    """Cron: delete export files whose time is up."""
    return await exports.remove_expired()


async def fold_edr_rollups(ctx: dict[str, Any]) -> int:
    """Cron: add the deltas the ``edr`` triggers wrote into the dashboard's rollups; safe under several workers."""
    return await rollups.fold_all()
