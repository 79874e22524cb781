"""The audit log (X-5): who did what to which object, visible to the actor's partner and its ancestors.

An entry keeps, besides an English ``summary`` (searched by the log's filter), what it takes to say it again as a
sentence in the reader's language: the actor's name, the object's name at the time, the changed fields with their
values before and after, and the sentence's other values (``details``). ``core.tenancy.audit_sentences`` turns
them into a sentence when the log is read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from core.actor import Actor
from core.db import icontains
from core.tenancy.audit_sentences import sentence
from core.tenancy.schemas import AuditView
from core.tenancy.scope import in_subtree
from core.tenancy.tables import AuditEntry
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

# Values of a sentence as they are stored: plain JSON, or one of these tagged dicts that the reader formats.


def money(micros: int, currency: str) -> dict[str, Any]:
    """An amount in micro-units, shown as '500.00 EUR'."""
    return {"$": "money", "micros": int(micros), "currency": currency}


def amount(value: Decimal | int | str, currency: str) -> dict[str, Any]:
    """A decimal amount (a rate, a credit limit as typed), shown as '0.015 EUR'."""
    return {"$": "amount", "value": str(value), "currency": currency}


def label(value: str) -> dict[str, Any]:
    """A word of the product (a status, a role, a channel) looked up in the reader's catalogue."""
    return {"$": "label", "value": value}


def day(value: date | datetime | None) -> dict[str, Any] | None:
    """A date or a moment, shown in the reader's date format (and time zone)."""
    if value is None:
        return None
    kind = "datetime" if isinstance(value, datetime) else "date"
    return {"$": kind, "value": value.isoformat()}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields of ``after`` whose value differs from ``before``'s, each with both values, in ``after``'s order.

    Give both dicts the values as a person sees them (``money(...)``, ``label(...)``, True/False for yes/no).
    """
    return [
        {"field": key, "before": before.get(key), "after": value}
        for key, value in after.items()
        if before.get(key) != value
    ]


def plain(value: Any) -> Any:
    """A column's value as the log stores it: dates tagged for the reader's format, decimals as text."""
    if isinstance(value, date):
        return day(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_changes(
    current: dict[str, Any], updates: dict[Any, Any], *, skip: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """``changes()`` of a piccolo update dict (column → new value) against the row it updates."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for column, value in updates.items():
        key = column if isinstance(column, str) else column._meta.name
        if key in skip or key == "updated_at":
            continue
        before[key], after[key] = plain(current.get(key)), plain(value)
    return changes(before, after)


async def record(
    actor: Actor,
    action: str,
    summary: str,
    *,
    object_type: str,
    object_id: int | None,
    details: dict[str, Any] | None = None,
    ip: str = "",
    name: str = "",
    changed: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
    variant: str = "",
) -> None:
    """Write one audit row; call it inside the transaction of the change it describes.

    ``name`` is the object's name now (the sentence names it even after a rename or a deletion), ``changed``
    what ``changes()`` found, ``params`` the sentence's other values and ``variant`` picks one of the action's
    sentences (``balance.adjust`` adds or deducts). ``summary`` stays English: the log's search looks in it.
    """
    stored = dict(details or {})
    stored.update(actor_name=actor.display_name, object_name=name)
    if changed:
        stored["changes"] = changed
    if params:
        stored["params"] = params
    if variant:
        stored["variant"] = variant
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
            details=stored,
            ip=ip,
            created_at=datetime.now(UTC),
        )
    )


async def list_entries(
    actor: Actor,
    *,
    action: str = "",
    query: str = "",
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    language: str = "",
) -> Page[AuditView]:
    """Entries of the actor's partner and its subtree, newest first, each said in ``language`` (the actor's)."""
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
            sentence=sentence(r, language or actor.language, actor),
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
