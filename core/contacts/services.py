"""Contacts services: the table's query, single contacts and mass actions, always inside the actor's partner."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from core.accounts.tables import User
from core.actor import Actor
from core.contacts.fields import check_custom, variables
from core.contacts.schemas import (
    ContactFilter,
    ContactIn,
    ContactUpdate,
    ContactView,
    GroupAction,
    GroupRef,
    Selection,
    SenderRef,
)
from core.contacts.tables import Contact, ContactBlock, ContactGroup, ContactGroupMember
from core.db import LIKE_ESCAPE, contains, icontains, is_sqlite, json_value, like_literal, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.numbering.normalise import InvalidNumber, normalise
from core.senders.tables import Sender
from core.tenancy import audit
from core.tenancy.scope import owned, require_admin
from core.web.i18n import N_
from core.web.pagination import Page, paginate
from core.web.periods import day_range


def phone_or_error(raw: str) -> str:
    try:
        return normalise(raw)
    except InvalidNumber as exc:
        raise InvalidInput(f"phone: {exc}", field="phone") from None


async def own_groups(actor: Actor, ids: list[int]) -> list[int]:
    """The ids when every one is a group of the actor's partner; else NotFound (a foreign id is a missing id)."""
    unique = sorted(set(ids))
    if unique:
        found = await ContactGroup.count().where(ContactGroup.id.is_in(unique) & owned(ContactGroup, actor))
        if found != len(unique):
            raise NotFound("Group")
    return unique


async def own_senders(actor: Actor, ids: list[int]) -> list[int]:
    unique = sorted(set(ids))
    if unique:
        found = await Sender.count().where(Sender.id.is_in(unique) & owned(Sender, actor))
        if found != len(unique):
            raise NotFound("Sender ID")
    return unique


def contact_where(actor: Actor, f: ContactFilter, fields: set[str] | None = None) -> Any:
    """The WHERE of the contacts table for a filter; every branch keeps the partner condition."""
    where: Combinable = owned(Contact, actor)
    if f.phone:
        digits = "".join(c for c in f.phone if c.isdigit())
        if not digits:
            # Stored phones are digits only: a filter without one would match every row and widen a mass action.
            raise InvalidInput(N_("Type at least one digit of the phone number"), field="phone")
        where &= contains(Contact.phone, digits)
    if f.first_name:
        where &= icontains(Contact.first_name, f.first_name)
    if f.last_name:
        where &= icontains(Contact.last_name, f.last_name)
    if f.comments:
        where &= icontains(Contact.comments, f.comments)
    if f.gender is not None:
        where &= Contact.gender == f.gender
    if f.group_id is not None:
        where &= WhereRaw('contact.id IN (SELECT contact FROM contact_group_member WHERE "group" = {})', f.group_id)
    if f.blocked_sender_id is not None:
        where &= WhereRaw("contact.id IN (SELECT contact FROM contact_block WHERE sender = {})", f.blocked_sender_id)
    if f.blocked is True:
        where &= (Contact.blocked_all == True) | WhereRaw(  # noqa: E712
            "contact.id IN (SELECT contact FROM contact_block)"
        )
    for column, first, last in (
        (Contact.created_at, f.created_from, f.created_to),
        (Contact.updated_at, f.updated_from, f.updated_to),
    ):
        start, end = day_range(first, last, actor.timezone)
        if start:
            where &= column >= start
        if end:
            where &= column < end
    for variable, value in f.custom.items():
        if not value:
            continue
        if fields is None or variable not in fields:
            raise InvalidInput(f"Unknown custom field {variable!r}", field=f"custom.{variable}")
        # The variable was checked against the partner's fields, so it is safe inside the JSON path.
        pattern = f"%{like_literal(value)}%"
        if is_sqlite():
            where &= WhereRaw(f"json_extract(contact.custom, '$.{variable}') LIKE {{}} {LIKE_ESCAPE}", pattern)
        else:
            where &= WhereRaw(f"contact.custom->>'{variable}' ILIKE {{}} {LIKE_ESCAPE}", pattern)
    return where


async def contact_views(rows: list[dict[str, Any]]) -> list[ContactView]:
    """Rows → views with their groups, blocked senders and creator, in three queries for the whole page."""
    ids = [r["id"] for r in rows]
    groups: dict[int, list[GroupRef]] = defaultdict(list)
    blocks: dict[int, list[SenderRef]] = defaultdict(list)
    creators: dict[int, str] = {}
    if ids:
        for m in (
            await ContactGroupMember.select(
                ContactGroupMember.contact,
                ContactGroupMember.group.id.as_alias("gid"),
                ContactGroupMember.group.name.as_alias("gname"),
            )
            .where(ContactGroupMember.contact.is_in(ids))
            .order_by(ContactGroupMember.group.name)
        ):
            groups[m["contact"]].append(GroupRef(id=m["gid"], name=m["gname"]))
        for b in await ContactBlock.select(
            ContactBlock.contact,
            ContactBlock.sender.id.as_alias("sid"),
            ContactBlock.sender.name.as_alias("sname"),
            ContactBlock.sender.channel.as_alias("schannel"),
        ).where(ContactBlock.contact.is_in(ids)):
            blocks[b["contact"]].append(SenderRef(id=b["sid"], name=b["sname"], channel=b["schannel"]))
        user_ids = sorted({r["created_by"] for r in rows if r["created_by"]})
        if user_ids:
            creators = {
                u["id"]: u["email"] for u in await User.select(User.id, User.email).where(User.id.is_in(user_ids))
            }
    return [
        ContactView(
            id=r["id"],
            phone=r["phone"],
            groups=groups[r["id"]],
            first_name=r["first_name"],
            last_name=r["last_name"],
            birth_date=r["birth_date"],
            gender=r["gender"],
            comments=r["comments"],
            custom=json_value(r["custom"]) or {},
            blocked_all=r["blocked_all"],
            blocked_senders=blocks[r["id"]],
            created_by=creators.get(r["created_by"], ""),
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]


async def list_contacts(actor: Actor, f: ContactFilter) -> Page[ContactView]:
    where = contact_where(actor, f, await variables(actor))
    found = await paginate(
        Contact.select()
        .order_by(getattr(Contact, f.sort), ascending=not f.descending)
        .order_by(Contact.id, ascending=not f.descending),
        where,
        page=f.page,
        per_page=f.per_page,
    )
    return found.with_items(await contact_views(found.items))


async def _own_contact(actor: Actor, contact_id: int) -> dict[str, Any]:
    row = await Contact.select().where((Contact.id == contact_id) & owned(Contact, actor)).first()
    if row is None:
        raise NotFound("Contact")
    return row


async def get_contact(actor: Actor, contact_id: int) -> ContactView:
    return (await contact_views([await _own_contact(actor, contact_id)]))[0]


async def _set_links(contact_id: int, groups: list[int] | None, senders: list[int] | None) -> None:
    if groups is not None:
        await ContactGroupMember.delete().where(ContactGroupMember.contact == contact_id)
        await ContactGroupMember.insert(*[ContactGroupMember(contact=contact_id, group=g) for g in groups])
    if senders is not None:
        await ContactBlock.delete().where(ContactBlock.contact == contact_id)
        if senders:
            await ContactBlock.insert(*[ContactBlock(contact=contact_id, sender=s) for s in senders])


async def create_contact(actor: Actor, data: ContactIn, *, ip: str = "") -> ContactView:
    phone = phone_or_error(data.phone)
    groups = await own_groups(actor, data.groups)
    senders = await own_senders(actor, data.blocked_senders)
    custom = await check_custom(actor, data.custom, partial=False)
    now = datetime.now(UTC)
    async with write_transaction():
        if await Contact.exists().where(owned(Contact, actor) & (Contact.phone == phone)):
            raise Conflict(f"A contact with the phone {phone} already exists", field="phone")
        row = Contact(
            partner=actor.partner_id,
            phone=phone,
            first_name=data.first_name,
            last_name=data.last_name,
            birth_date=data.birth_date,
            gender=data.gender,
            comments=data.comments,
            custom=custom,
            blocked_all=data.blocked_all,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        await row.save()
        await _set_links(row.id, groups, senders)
        await audit.record(
            actor,
            "contact.create",
            f"Created contact {phone}",
            object_type="contact",
            object_id=row.id,
            ip=ip,
            name=phone,
        )
    return await get_contact(actor, row.id)


async def update_contact(actor: Actor, contact_id: int, data: ContactUpdate, *, ip: str = "") -> ContactView:
    current = await _own_contact(actor, contact_id)
    changes: dict[Any, Any] = {}
    if data.phone is not UNSET:
        phone = phone_or_error(data.phone)
        if phone != current["phone"] and await Contact.exists().where(owned(Contact, actor) & (Contact.phone == phone)):
            raise Conflict(f"A contact with the phone {phone} already exists", field="phone")
        changes[Contact.phone] = phone
    groups = await own_groups(actor, data.groups) if data.groups is not UNSET else None
    senders = await own_senders(actor, data.blocked_senders) if data.blocked_senders is not UNSET else None
    for name in ("first_name", "last_name", "birth_date", "gender", "comments", "blocked_all"):
        value = getattr(data, name)
        if value is not UNSET:
            changes[getattr(Contact, name)] = value
    if data.custom is not UNSET:
        merged = {**(json_value(current["custom"]) or {}), **data.custom}
        changes[Contact.custom] = await check_custom(actor, merged, partial=False)
    changes[Contact.updated_at] = datetime.now(UTC)
    async with write_transaction():
        await Contact.update(changes).where(Contact.id == contact_id)
        await _set_links(contact_id, groups, senders)
        await audit.record(
            actor,
            "contact.update",
            f"Changed contact {current['phone']}",
            object_type="contact",
            object_id=contact_id,
            ip=ip,
            name=current["phone"],
            changed=audit.row_changes(current, changes, skip=("custom",)),
        )
    return await get_contact(actor, contact_id)


async def selected_where(actor: Actor, selection: Selection) -> Any:
    """The WHERE for a selection: the ids given (only the actor's count) or all rows matching the filter."""
    if selection.all_matching:
        return contact_where(actor, selection.filter, await variables(actor))
    if not selection.ids:
        raise InvalidInput(N_("Select at least one contact"), field="ids")
    return owned(Contact, actor) & Contact.id.is_in(sorted(set(selection.ids)))


async def delete_contacts(actor: Actor, selection: Selection, *, ip: str = "") -> int:
    require_admin(actor, "delete contacts")
    where = await selected_where(actor, selection)
    async with write_transaction():
        count = await Contact.count().where(where)
        if not selection.all_matching and count != len(set(selection.ids)):
            raise NotFound("Contact")
        await Contact.delete().where(where)
        await audit.record(
            actor,
            "contact.delete",
            f"Deleted {count} contact(s)",
            object_type="contact",
            object_id=selection.ids[0] if len(selection.ids) == 1 else None,
            ip=ip,
            params={"count": count},
        )
    return count


async def group_action(actor: Actor, data: GroupAction, *, ip: str = "") -> int:
    """Add the selected contacts to a group, remove them from it, or move them into it (their only group)."""
    await own_groups(actor, [data.group_id])
    group = await ContactGroup.select(ContactGroup.name).where(ContactGroup.id == data.group_id).first()
    group_name = group["name"] if group else ""
    where = await selected_where(actor, data.selection)
    ids = [r["id"] for r in await Contact.select(Contact.id).where(where)]
    if not data.selection.all_matching and len(ids) != len(set(data.selection.ids)):
        raise NotFound("Contact")
    if not ids:
        return 0
    async with write_transaction():
        if data.action in ("remove", "move"):
            condition: Combinable = ContactGroupMember.contact.is_in(ids)
            if data.action == "remove":
                condition &= ContactGroupMember.group == data.group_id
            await ContactGroupMember.delete().where(condition)
        if data.action in ("add", "move"):
            existing = {
                r["contact"]
                for r in await ContactGroupMember.select(ContactGroupMember.contact).where(
                    ContactGroupMember.contact.is_in(ids) & (ContactGroupMember.group == data.group_id)
                )
            }
            new = [ContactGroupMember(contact=i, group=data.group_id) for i in ids if i not in existing]
            for start in range(0, len(new), 2000):
                await ContactGroupMember.insert(*new[start : start + 2000])
        if data.action == "remove":
            # Every contact keeps at least one group (CON-1).
            orphans = await Contact.count().where(
                Contact.id.is_in(ids) & WhereRaw("contact.id NOT IN (SELECT contact FROM contact_group_member)")
            )
            if orphans:
                raise Conflict(
                    f"{orphans} contact(s) would be left without a group; move them instead", field="group_id"
                )
        await audit.record(
            actor,
            f"contact.group_{data.action}",
            f"{data.action.title()} {len(ids)} contact(s) {'to' if data.action != 'remove' else 'from'}"
            f" group #{data.group_id}",
            object_type="group",
            object_id=data.group_id,
            ip=ip,
            name=group_name,
            params={"count": len(ids)},
        )
    return len(ids)
