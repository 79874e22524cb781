"""Contact groups (CON-4): unique names per partner, member counts, and the reply-template rule for deletion."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Count

from core.actor import Actor
from core.contacts.schemas import GroupIn, GroupRef, GroupUpdate, GroupView
from core.contacts.tables import ContactGroup, ContactGroupMember, ContactImport
from core.db import icontains, is_sqlite, write_transaction
from core.errors import Conflict, NotFound
from core.tenancy import audit
from core.tenancy.scope import owned, require_admin
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

# Rules that can forbid deleting a group, e.g. "used by a reply template" (TPL-4); each returns the reason or
# None. The reply-templates issue registers its check here so this module needs no change.
DELETE_GUARDS: list[Callable[[int], Awaitable[str | None]]] = []

# Import states in which the import will still add contacts to its group.
ACTIVE_IMPORT = frozenset({"queued", "running"})


def _same_name(name: str) -> WhereRaw:
    return WhereRaw("lower(contact_group.name) = {}", name.lower())


async def list_groups(
    actor: Actor, *, query: str = "", page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[GroupView]:
    where: Combinable = owned(ContactGroup, actor)
    if query:
        where &= icontains(ContactGroup.name, query)
    found = await paginate(ContactGroup.select().order_by(ContactGroup.name), where, page=page, per_page=per_page)
    rows = found.items
    counts: dict[int, int] = {}
    if rows:
        ids = [r["id"] for r in rows]
        counted = (
            await ContactGroupMember.select(ContactGroupMember.group, Count(alias="n"))
            .where(ContactGroupMember.group.is_in(ids))
            .group_by(ContactGroupMember.group)
        )
        counts = {r["group"]: r["n"] for r in counted}
    items = [
        GroupView(
            id=r["id"],
            name=r["name"],
            description=r["description"],
            contacts=counts.get(r["id"], 0),
            created_at=r["created_at"],
        )
        for r in rows
    ]
    return found.with_items(items)


async def group_names(actor: Actor) -> list[GroupRef]:
    """Every group of the partner by name, without counts: for pickers and filters, cheap at any size."""
    rows = (
        await ContactGroup.select(ContactGroup.id, ContactGroup.name)
        .where(owned(ContactGroup, actor))
        .order_by(ContactGroup.name)
    )
    return [GroupRef(id=r["id"], name=r["name"]) for r in rows]


async def _own(actor: Actor, group_id: int) -> dict[str, Any]:
    row = await ContactGroup.select().where((ContactGroup.id == group_id) & owned(ContactGroup, actor)).first()
    if row is None:
        raise NotFound("Group")
    return row


async def get_group(actor: Actor, group_id: int) -> GroupView:
    row = await _own(actor, group_id)
    count = await ContactGroupMember.count().where(ContactGroupMember.group == group_id)
    return GroupView(
        id=row["id"], name=row["name"], description=row["description"], contacts=count, created_at=row["created_at"]
    )


async def create_group(actor: Actor, data: GroupIn, *, ip: str = "") -> GroupView:
    async with write_transaction():
        if await ContactGroup.exists().where(owned(ContactGroup, actor) & _same_name(data.name)):
            raise Conflict(f"A group named {data.name!r} already exists", field="name")
        row = ContactGroup(
            partner=actor.partner_id, name=data.name, description=data.description, created_at=datetime.now(UTC)
        )
        await row.save()
        await audit.record(
            actor,
            "group.create",
            f"Created group {data.name!r}",
            object_type="group",
            object_id=row.id,
            ip=ip,
            name=data.name,
        )
    return await get_group(actor, row.id)


async def update_group(actor: Actor, group_id: int, data: GroupUpdate, *, ip: str = "") -> GroupView:
    row = await _own(actor, group_id)
    changes: dict[Any, Any] = {}
    if data.name is not UNSET and data.name != row["name"]:
        if await ContactGroup.exists().where(
            owned(ContactGroup, actor) & _same_name(data.name) & (ContactGroup.id != group_id)
        ):
            raise Conflict(f"A group named {data.name!r} already exists", field="name")
        changes[ContactGroup.name] = data.name
    if data.description is not UNSET:
        changes[ContactGroup.description] = data.description
    if changes:
        async with write_transaction():
            await ContactGroup.update(changes).where(ContactGroup.id == group_id)
            await audit.record(
                actor,
                "group.update",
                f"Changed group {row['name']!r}",
                object_type="group",
                object_id=group_id,
                ip=ip,
                name=row["name"],
                changed=audit.row_changes(row, changes),
            )
    return await get_group(actor, group_id)


async def delete_group(actor: Actor, group_id: int, *, ip: str = "") -> None:
    """Delete a group; its contacts stay (in their other groups) unless this was their only group."""
    require_admin(actor, "delete groups")
    row = await _own(actor, group_id)
    for guard in DELETE_GUARDS:
        reason = await guard(group_id)
        if reason:
            raise Conflict(reason)
    only_group = await ContactGroupMember.count().where(
        (ContactGroupMember.group == group_id)
        & WhereRaw('contact NOT IN (SELECT contact FROM contact_group_member WHERE "group" <> {})', group_id)
    )
    if only_group:
        raise Conflict(f"{only_group} contact(s) are only in this group; move or delete them first")
    async with write_transaction():
        # Checked under the group's row lock, which a running import holds too (see imports._hold_group): an
        # import either sees the group gone and fails cleanly, or keeps it until its contacts are in it.
        if not is_sqlite():
            await ContactGroup.select(ContactGroup.id).where(ContactGroup.id == group_id).lock_rows("UPDATE")
        if await ContactImport.exists().where(
            (ContactImport.group_id == group_id) & ContactImport.status.is_in(list(ACTIVE_IMPORT))
        ):
            raise Conflict("An import into this group has not finished; delete the group when it is done")
        await ContactGroup.delete().where(ContactGroup.id == group_id)
        await audit.record(
            actor,
            "group.delete",
            f"Deleted group {row['name']!r}",
            object_type="group",
            object_id=group_id,
            ip=ip,
            name=row["name"],
        )
