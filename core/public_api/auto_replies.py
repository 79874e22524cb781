"""Auto-replies (MO-2, MO-3): an MO message that matches a reply template is answered through the same channel
and sender ID, billed as "Reply to MO", and its subscription action is applied to the contact.

Stored MO batches are answered by one job each (``answer_inbound``), off the receipt path. Each MO row is claimed
before its answer is sent, so a retried job never answers twice: a job killed between claim and send leaves that
one MO unanswered, the safe side for a message the recipient did not ask to be repeated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.contacts.subscriptions import apply_subscription
from core.dispatch.tables import InboundRecord
from core.message_templates.replies import matching
from core.message_templates.tables import ReplyTemplate
from core.numbering.normalise import InvalidNumber, normalise
from core.portal import Portal
from core.public_api.checks import Message, Request
from core.public_api.services import send
from core.senders.tables import Sender
from core.tenancy.options import partner_options
from core.tenancy.tables import Partner

TASK = "answer_inbound"
CLAIMED = "…"
AUTO_REPLY_LABEL = "auto-reply"


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


async def _claim(inbound_id: int) -> bool:
    return (
        len(
            await InboundRecord.update({InboundRecord.reply: CLAIMED})
            .where((InboundRecord.id == inbound_id) & (InboundRecord.reply == ""))
            .returning(InboundRecord.id)
        )
        == 1
    )


async def _settle(inbound_id: int, outcome: str) -> None:
    await InboundRecord.update({InboundRecord.reply: outcome[:200]}).where(InboundRecord.id == inbound_id)


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
        options = await partner_options(partner_id)
        if not (options.mo_enabled and options.auto_replies):
            continue
        templates = await ReplyTemplate.select().where(ReplyTemplate.partner == partner_id)
        actor = await _partner_actor(partner_id) if templates else None
        if actor is None:
            continue
        for mo in sorted(messages, key=lambda r: r["id"]):
            template = matching([t for t in templates if t["channel"] == mo["channel"]], mo["text"])
            if template is not None and await _claim(mo["id"]):
                await _settle(mo["id"], await _answer(portal, actor, mo, template))
                answered += 1
    return answered


async def _answer(portal: Portal, actor: Actor, mo: Mapping[str, Any], template: Mapping[str, Any]) -> str:
    """Apply the template to one claimed MO; what to remember on it (the reply's transaction id, or why none).

    A subscription is applied before the answer and an unsubscription after it: both confirmations reach the
    recipient, although the one blocks the sender ID that sends it.
    """
    try:
        number = normalise(mo["source"])
    except InvalidNumber as exc:
        return f"Invalid number: {exc}"
    if template["action"] == "subscribe":
        await _subscription(actor, mo, number, template)
    outcome = f"{template['action']} by {template['name']}"
    if template["text"]:
        message = Message(mo["channel"], mo["destination"], template["text"], "", [number], AUTO_REPLY_LABEL, False)
        request = Request([message], dry_run=False, accept_mo=False)
        results = (await send(portal, actor, 0, request, kind="reply")).results
        outcome = results[0].split(":", 1)[1] if results else "not sent"
    if template["action"] == "unsubscribe":
        await _subscription(actor, mo, number, template)
    return outcome


async def _subscription(actor: Actor, mo: Mapping[str, Any], number: str, template: Mapping[str, Any]) -> None:
    sender = (
        await Sender.select(Sender.id)
        .where(
            (Sender.partner == actor.partner_id)
            & (Sender.channel == mo["channel"])
            & (Sender.name == mo["destination"])
        )
        .first()
    )
    if sender is not None:
        await apply_subscription(actor.partner_id, number, sender["id"], template["action"], template["group_id"])
