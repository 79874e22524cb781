"""The audit log (X-5): who did what to which object, visible to the actor's partner and its ancestors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.actor import Actor
from core.db import icontains
from core.tenancy.schemas import AuditView
from core.tenancy.scope import in_subtree
from core.tenancy.tables import AuditEntry
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate


async def record(
    actor: Actor,
    action: str,
    summary: str,
    *,
    object_type: str,
    object_id: int | None,
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    """Write one audit row; call it inside the transaction of the change it describes."""
    await AuditEntry.insert(
        AuditEntry(
            partner=actor.partner_id,
            partner_path=actor.partner_path,
            user_id=actor.user_id,
            user_email=actor.email,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary[:500],
            details=details or {},
            ip=ip,
            created_at=datetime.now(UTC),
        )
    )


async def list_entries(
    actor: Actor, *, action: str = "", query: str = "", page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[AuditView]:
    where = in_subtree(actor, AuditEntry.partner_path)
    if action:
        where &= AuditEntry.action == action
    if query:
        where &= icontains(AuditEntry.summary, query)
    found = await paginate(
        AuditEntry.select(*AuditEntry.all_columns(), AuditEntry.partner.name.as_alias("partner_name")).order_by(
            AuditEntry.id, ascending=False
        ),
        where,
        page=page,
        per_page=per_page,
    )
    rows = found.items
    items = [
        AuditView(
            id=r["id"],
            partner_id=r["partner"],
            partner_name=r["partner_name"],
            user_email=r["user_email"],
            action=r["action"],
            object_type=r["object_type"],
            object_id=r["object_id"],
            summary=r["summary"],
            ip=r["ip"],
            created_at=r["created_at"],
        )
        for r in rows
    ]
    return found.with_items(items)


async def actions(actor: Actor) -> list[str]:
    """Distinct actions in the actor's scope, for the filter drop-down."""
    rows = await AuditEntry.select(AuditEntry.action).where(in_subtree(actor, AuditEntry.partner_path)).distinct()
    return sorted(r["action"] for r in rows)
