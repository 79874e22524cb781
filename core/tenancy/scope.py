"""The one place where tenant scoping is decided (TEN-4): what part of the partner tree an actor reaches."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import Where
from piccolo.table import Table

from core.actor import Actor
from core.db import starts_with
from core.errors import Forbidden, NotFound
from core.tenancy.tables import Partner

PATH_DIGITS = 10


def path_segment(partner_id: int) -> str:
    """Zero-padded so that ordering by path lists a tree depth-first in id order."""
    return f"{partner_id:0{PATH_DIGITS}d}/"


def depth_of(path: str) -> int:
    return path.count("/") - 2


def in_subtree(actor: Actor, column: Any = Partner.path) -> Any:
    """A where-clause limiting ``column`` (a partner path) to the actor's own partner and its descendants."""
    return starts_with(column, actor.partner_path)


def is_own(actor: Actor, partner_id: int) -> bool:
    """The actor's own partner: visible to it, but changed only by its parent."""
    return partner_id == actor.partner_id


def owned(table: type[Table], actor: Actor) -> Where:
    """A where-clause limiting ``table`` (tenant data with a ``partner`` column) to the actor's own partner."""
    return table._meta.get_column_by_name("partner") == actor.partner_id


async def of_visible_partner(actor: Actor, table: type[Table], partner_id: int) -> Where:
    """A where-clause for the ``table`` rows of ``partner_id``, once the actor may see that partner, else NotFound."""
    await visible_partner(actor, partner_id)
    return table._meta.get_column_by_name("partner") == partner_id


async def visible_partner(actor: Actor, partner_id: int) -> dict[str, Any]:
    """The partner row when the actor may see it (own partner or a descendant), else NotFound."""
    row = await Partner.select().where((Partner.id == partner_id) & in_subtree(actor)).first()
    if row is None:
        raise NotFound("Partner")
    return row


async def managed_partner(actor: Actor, partner_id: int) -> dict[str, Any]:
    """A strict descendant the actor may change; its own partner is visible but changed only by the parent."""
    row = await visible_partner(actor, partner_id)
    if is_own(actor, row["id"]):
        raise Forbidden("Only the parent partner can change this partner")
    return row


def require_manager(actor: Actor) -> None:
    """Admin Panel features exist only for owner and reseller users; others get the 404 of a missing page."""
    if not actor.is_partner_manager:
        raise NotFound("Page")


def require_owner(actor: Actor, what: str | None = None, *, hidden: bool = True) -> None:
    """Features of the system owner alone; with ``what``, of its admins alone (ACC-7).

    ``hidden``: others get the 404 of a missing page, so they do not learn the feature exists; otherwise a 403
    naming ``what``.
    """
    if not actor.is_owner:
        if hidden or what is None:
            raise NotFound("Page")
        raise Forbidden(f"Only the system owner's admins can {what}")
    if what is not None:
        require_admin(actor, what)


def require_admin(actor: Actor, what: str) -> None:
    """ACC-7: operators may not touch finance, keys or deletions."""
    if not actor.is_admin:
        raise Forbidden(f"Operators cannot {what}; ask an admin of your company")
