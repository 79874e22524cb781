"""Auto-replies (MO-2, MO-3): an MO message that matches a reply template is answered through the same channel
and sender ID, billed as "Reply to MO", and its subscription action is applied to the contact.

Stored MO batches are answered by one job each (``answer_inbound``), off the receipt path, set-wise: one claim, one
subscription write and one accepted request per partner and sender ID, never a query or job per message. The MO
rows are claimed before their answers are sent, so a retried job never answers twice: a job killed between claim
and send leaves those MO unanswered, the safe side for messages the recipient did not ask to be repeated. Within a
batch, a number's latest MO to a sender ID is the one answered and acted on ("STOP" then "START" ends subscribed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.contacts.subscriptions import Subscription, apply_subscriptions
from core.contacts.tables import Contact
from core.db import is_sqlite, write_transaction
from core.dispatch.tables import InboundRecord
from core.message_templates.rendering import CONTACT_VARIABLES, contact_values, render, variables_in
from core.message_templates.replies import matching, replies_on
from core.message_templates.tables import ReplyTemplate
from core.numbering.normalise import InvalidNumber, normalise
from core.portal import Portal
from core.public_api.checks import Message, Request
from core.public_api.services import MAX_RECIPIENTS, send
from core.rawsql import RawSql
from core.senders.tables import Sender
from core.tenancy.options import partner_options
from core.tenancy.tables import Partner

TASK = "answer_inbound"
CLAIMED = "…"
LABEL = "auto-reply"  # the API label of the replies' ledger rows
CONTACT_CHUNK = 500  # numbers per contact look-up: well under both databases' parameter limits
CONTACT_COLUMNS = tuple(getattr(Contact, name) for name in (*CONTACT_VARIABLES, "custom") if name != "phone")
SUPERSEDED = "A later message of this number to this sender ID was answered instead"


async def queue_answers(portal: Portal, ids: list[int]) -> None:
    """The engine's inbound listener: one job answers each stored batch of MO messages."""
    if ids:
        await portal.enqueue(TASK, ids=ids, key=f"{TASK}:{ids[0]}:{ids[-1]}", timeout=120, retries=3)


async def _partner_actor(partner_id: int) -> Actor | None:
    """The partner itself as the actor of its auto-replies: no user, the partner's scope and currency."""
    row = await Partner.select().where((Partner.id == partner_id) & (Partner.blocked.eq(False))).first()
    if row is None:
        return None
    return Actor(
        user_id=0,
        email="",
        first_name="",
        last_name="",
        role="admin",
        partner_id=row["id"],
        partner_name=row["name"],
        partner_kind=row["kind"],
        partner_path=row["path"],
        currency=row["currency"],
        portal_id=row["portal_id"] or 0,
    )


async def _claim(ids: list[int]) -> set[int]:
    """Claim the MO rows not answered yet; those this job may answer."""
    if not ids:
        return set()
    rows = (
        await InboundRecord.update({InboundRecord.reply: CLAIMED})
        .where(InboundRecord.id.is_in(ids) & (InboundRecord.reply == ""))
        .returning(InboundRecord.id)
    )
    return {r["id"] for r in rows}


async def _settle(outcomes: dict[int, str]) -> None:
    async with write_transaction() as tx:
        await RawSql(tx.connection, sqlite=is_sqlite()).executemany(
            "UPDATE inbound_message SET reply = $1 WHERE id = $2",
            [(outcome[:200], inbound_id) for inbound_id, outcome in sorted(outcomes.items())],
        )


async def answer_inbound(portal: Portal, ids: Sequence[int]) -> int:
    """Answer the MO messages ``ids`` that match a reply template of their partner; how many were answered."""
    rows = await InboundRecord.select().where(
        InboundRecord.id.is_in(list(ids)) & InboundRecord.partner.is_not_null() & (InboundRecord.reply == "")
    )
    by_partner: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_partner[row["partner"]].append(row)
    answered = 0
    for partner_id, messages in by_partner.items():
        if not replies_on(await partner_options(partner_id)):
            continue
        templates: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for t in await ReplyTemplate.select().where(ReplyTemplate.partner == partner_id):
            templates[t["channel"]].append(t)
        actor = await _partner_actor(partner_id) if templates else None
        if actor is None:
            continue
        matched = {
            mo["id"]: (mo, found)
            for mo in messages
            if (found := matching(templates[mo["channel"]], mo["text"])) is not None
        }
        claimed = await _claim(sorted(matched))
        if claimed:
            await _settle(await _answer(portal, actor, [matched[i] for i in sorted(claimed)]))
        answered += len(claimed)
    return answered


Answer = tuple[Mapping[str, Any], Mapping[str, Any], str]  # the MO, its template, its number


async def _answer(
    portal: Portal, actor: Actor, items: list[tuple[Mapping[str, Any], Mapping[str, Any]]]
) -> dict[int, str]:
    """Apply the templates to claimed MO (in id order); what to remember on each (its reply's transaction id, or
    why none was sent).

    Subscriptions are applied before the answers and unsubscriptions after them: both confirmations reach the
    recipient, although the one blocks the sender ID that sends it.
    """
    outcomes: dict[int, str] = {}
    latest: dict[tuple[str, str, str], Answer] = {}
    for mo, template in items:
        try:
            number = normalise(mo["source"])
        except InvalidNumber as exc:
            outcomes[mo["id"]] = f"Invalid number: {exc}"
            continue
        key = (mo["channel"], mo["destination"], number)
        if key in latest:
            outcomes[latest[key][0]["id"]] = SUPERSEDED
        latest[key] = (mo, template, number)
        outcomes[mo["id"]] = f"{template['action']} by {template['name']}"
    answers = list(latest.values())
    senders = await _sender_ids(actor, {(mo["channel"], mo["destination"]) for mo, _, _ in answers})
    await _subscriptions(actor, senders, answers, "subscribe")
    groups: dict[tuple[str, str], list[Answer]] = defaultdict(list)
    for answer in answers:
        if answer[1]["text"]:
            groups[answer[0]["channel"], answer[0]["destination"]].append(answer)
    contacts = await _contacts(actor.partner_id, {n for _, t, n in answers if variables_in(t["text"])})
    for (channel, sender), members in groups.items():
        # One accepted request per sender ID and 700 numbers (each number once in it, as the API requires).
        for start in range(0, len(members), MAX_RECIPIENTS):
            chunk = members[start : start + MAX_RECIPIENTS]
            messages = [
                Message(channel, sender, render(t["text"], contact_values(contacts.get(n), n)), "", [n], LABEL, False)
                for _, t, n in chunk
            ]
            results = (
                await send(portal, actor, 0, Request(messages, dry_run=False, accept_mo=False), kind="reply")
            ).results
            by_number = dict(r.split(":", 1) for r in results)
            for mo, _, number in chunk:
                outcomes[mo["id"]] = by_number.get(number, "not sent")
    await _subscriptions(actor, senders, answers, "unsubscribe")
    return outcomes


async def _contacts(partner_id: int, numbers: set[str]) -> dict[str, Mapping[str, Any]]:
    """The partner's contacts of ``numbers`` by phone, for the variables of the replies' text (TPL-4)."""
    found: dict[str, Mapping[str, Any]] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), CONTACT_CHUNK):
        rows = await Contact.select(Contact.phone, *CONTACT_COLUMNS).where(
            (Contact.partner == partner_id) & Contact.phone.is_in(ordered[start : start + CONTACT_CHUNK])
        )
        found.update((r["phone"], r) for r in rows)
    return found


async def _sender_ids(actor: Actor, names: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The partner's sender IDs by (channel, name), for the subscription actions."""
    if not names:
        return {}
    rows = await Sender.select(Sender.id, Sender.channel, Sender.name).where(
        (Sender.partner == actor.partner_id) & Sender.name.is_in(sorted({name for _, name in names}))
    )
    return {(r["channel"], r["name"]): r["id"] for r in rows}


async def _subscriptions(
    actor: Actor, senders: dict[tuple[str, str], int], answers: list[Answer], action: Subscription
) -> None:
    await apply_subscriptions(
        actor.partner_id,
        [
            (number, sender_id, action, template["group_id"])
            for mo, template, number in answers
            if template["action"] == action
            and (sender_id := senders.get((mo["channel"], mo["destination"]))) is not None
        ],
    )
