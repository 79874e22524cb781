"""The stop list (CON-5): blocks merge, never overwrite; dispatch asks `blocked()` once per batch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from piccolo.columns.combination import WhereRaw

from core.contacts.schemas import StopListChange
from core.contacts.services import own_senders, selected_where
from core.contacts.tables import Contact, ContactBlock
from core.db import write_transaction
from core.errors import InvalidInput
from core.tenancy import audit
from core.tenancy.schemas import Actor
from core.web.i18n import N_

# PostgreSQL takes at most 32,767 parameters per statement; stay well below.
CHUNK = 10_000


async def blocked(partner_id: int, sender_id: int | None, numbers: Iterable[str]) -> set[str]:
    """Which of ``numbers`` (E.164 digits) must not receive messages from ``sender_id`` — one query per chunk.

    ``sender_id`` None asks about "all sender IDs" blocks only.
    """
    wanted = sorted(set(numbers))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        condition = Contact.blocked_all == True  # noqa: E712
        if sender_id is not None:
            condition |= WhereRaw("contact.id IN (SELECT contact FROM contact_block WHERE sender = {})", sender_id)
        rows = await Contact.select(Contact.phone).where(
            (Contact.partner == partner_id) & Contact.phone.is_in(chunk) & condition
        )
        found.update(r["phone"] for r in rows)
    return found


async def _selected_ids(actor: Actor, change: StopListChange) -> list[int]:
    if not change.all_senders and not change.sender_ids:
        raise InvalidInput(N_("Choose sender IDs or all sender IDs"), field="sender_ids")
    await own_senders(actor, change.sender_ids)
    return [r["id"] for r in await Contact.select(Contact.id).where(await selected_where(actor, change.selection))]


async def block(actor: Actor, change: StopListChange, *, ip: str = "") -> int:
    """Add blocks to the selected contacts, keeping the ones they had."""
    ids = await _selected_ids(actor, change)
    async with write_transaction():
        if change.all_senders:
            await Contact.update({Contact.blocked_all: True, Contact.updated_at: datetime.now(UTC)}).where(
                Contact.id.is_in(ids)
            )
        else:
            existing = (
                {
                    (r["contact"], r["sender"])
                    for r in await ContactBlock.select(ContactBlock.contact, ContactBlock.sender).where(
                        ContactBlock.contact.is_in(ids)
                    )
                }
                if ids
                else set()
            )
            new = [ContactBlock(contact=c, sender=s) for c in ids for s in change.sender_ids if (c, s) not in existing]
            for start in range(0, len(new), 2000):
                await ContactBlock.insert(*new[start : start + 2000])
        await audit.record(
            actor,
            "stoplist.block",
            f"Added {len(ids)} contact(s) to the stop list",
            object_type="contact",
            object_id=None,
            ip=ip,
        )
    return len(ids)


async def unblock(actor: Actor, change: StopListChange, *, ip: str = "") -> int:
    """Remove blocks: the chosen sender IDs, or every block with ``all_senders``."""
    ids = await _selected_ids(actor, change)
    async with write_transaction():
        if change.all_senders:
            await Contact.update({Contact.blocked_all: False}).where(Contact.id.is_in(ids))
            await ContactBlock.delete().where(ContactBlock.contact.is_in(ids))
        else:
            await ContactBlock.delete().where(
                ContactBlock.contact.is_in(ids) & ContactBlock.sender.is_in(change.sender_ids)
            )
        await audit.record(
            actor,
            "stoplist.unblock",
            f"Removed stop-list blocks of {len(ids)} contact(s)",
            object_type="contact",
            object_id=None,
            ip=ip,
        )
    return len(ids)
