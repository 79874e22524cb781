"""The database keeps contacts, groups and memberships consistent on both engines (set-based on PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from core.contacts.tables import Contact, ContactGroup, ContactGroupMember
from core.db import write_transaction
from tests.factories import make_world

# SQLite's foreign keys and PostgreSQL's reference triggers word the refusal differently.
REFUSED = r"(?i)foreign key|does not exist"


async def test_rows_that_point_nowhere_are_refused_and_deletes_take_their_members(app):
    world = await make_world()
    a = world.a
    with pytest.raises(Exception, match=REFUSED):
        await ContactGroupMember.insert(ContactGroupMember(contact=a.contact_id + 10_000, group=a.group_id))
    with pytest.raises(Exception, match=REFUSED):
        await ContactGroupMember.insert(ContactGroupMember(contact=a.contact_id, group=a.group_id + 10_000))
    with pytest.raises(Exception, match=REFUSED):
        await Contact.raw(
            "INSERT INTO contact (partner, phone, created_at, updated_at)"
            " VALUES ({}, '34600000999', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            a.end_user_id + 10_000,
        )
    # A refused statement changes nothing: the contact is still in exactly its one group.
    assert await ContactGroupMember.count().where(ContactGroupMember.contact == a.contact_id) == 1

    spare = ContactGroup(partner=a.end_user_id, name="Spare", created_at=datetime.now(UTC))
    await spare.save()
    await ContactGroupMember.insert(ContactGroupMember(contact=a.contact_id, group=spare.id))
    await ContactGroup.delete().where(ContactGroup.id == spare.id)
    assert await ContactGroupMember.count().where(ContactGroupMember.contact == a.contact_id) == 1
    await Contact.delete().where(Contact.id == a.contact_id)
    assert await ContactGroupMember.count().where(ContactGroupMember.group == a.group_id) == 0
    # The other tenant's contact and membership are untouched.
    assert await ContactGroupMember.count().where(ContactGroupMember.contact == world.b.contact_id) == 1


async def test_a_delete_racing_a_new_membership_leaves_no_member_behind(app):
    world = await make_world()
    a = world.a
    added = asyncio.Event()

    async def add_to_group() -> None:
        async with write_transaction():
            spare = ContactGroup(partner=a.end_user_id, name="Racing", created_at=datetime.now(UTC))
            await spare.save()
            await ContactGroupMember.insert(ContactGroupMember(contact=a.contact_id, group=spare.id))
            added.set()
            await asyncio.sleep(0.5)  # the delete arrives while this transaction still holds its membership

    async def delete_contact() -> None:
        await added.wait()
        async with write_transaction():
            await Contact.delete().where(Contact.id == a.contact_id)

    await asyncio.gather(add_to_group(), delete_contact())
    assert not await Contact.exists().where(Contact.id == a.contact_id)
    assert await ContactGroupMember.count().where(ContactGroupMember.contact == a.contact_id) == 0
