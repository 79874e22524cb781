"""saq tasks of the contacts domain: run one queued import (all or nothing, never retried half-way), sweep."""

from __future__ import annotations

from typing import Any

from core.contacts import imports


async def run_import(ctx: dict[str, Any], *, import_id: int) -> str:
    """Import the file of ``import_id``; a failure rolls everything back and marks the import failed."""
    return await imports.run_import(ctx["portal"], import_id)


async def sweep_imports(ctx: dict[str, Any]) -> int:
    """Cron: mark failed the imports whose worker died mid-way (their changes were rolled back)."""
    return await imports.fail_abandoned(ctx["portal"])
