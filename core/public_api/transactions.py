"""What became of one /api/send_sms transaction (API-2, CMP-7): its attempts, one per channel tried, and its outcome.

A transaction id names one recipient of one request. Without a cascade it has one attempt; with ``channels`` listing
several, each further channel tried is an attempt (an EDR) of its own under the same id. The outcome is the attempt
that reached the recipient (DELIVERED or SEEN) when one did, else the latest attempt; ``nextChannels`` lists the
channels still to try while the cascade waits on the current attempt. Only the caller's own company sees it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from core.actor import Actor
from core.dispatch.tables import Edr
from core.errors import NotFound
from core.money import from_micros
from core.public_api.tables import ApiCascade
from core.tenancy.scope import owned

REACHED = ("DELIVERED", "SEEN")


class AttemptView(msgspec.Struct, kw_only=True, rename="camel"):
    """One channel tried for the recipient: its status and its price (a By Delivered plan pays back an undelivered
    attempt's)."""

    channel: str
    status: str
    error: str
    price: Decimal
    currency: str
    sent_at: datetime | None
    done_at: datetime | None
    handed_on: bool = False  # not delivered in time (or ended badly): the next channel took over


class TransactionView(msgspec.Struct, kw_only=True):
    """A transaction's outcome (the reaching attempt, else the latest) and every attempt in the order they were made."""

    transaction_id: str = msgspec.field(name="transactionID")
    dnis: str
    status: str
    channel: str
    client_ref: str = msgspec.field(name="clientRef")
    next_channels: list[str] = msgspec.field(name="nextChannels")
    attempts: list[AttemptView]


async def get_transaction(actor: Actor, transaction_id: str) -> TransactionView:
    """The actor's company's API transaction; another company's (or a campaign's) id is a missing one (404).

    Raises:
        NotFound: no API message of the actor's partner has this transaction id.
    """
    rows = (
        await Edr.select()
        .where(owned(Edr, actor) & Edr.campaign.is_null() & (Edr.transaction_id == transaction_id.strip()))
        .order_by(Edr.id)
    )
    if not rows:
        raise NotFound("Transaction")
    reached = [r for r in rows if r["status"] in REACHED]
    outcome = reached[0] if reached else rows[-1]
    waiting = await ApiCascade.select(ApiCascade.channels).where(ApiCascade.edr == rows[-1]["id"]).first()
    return TransactionView(
        transaction_id=outcome["transaction_id"],
        dnis=outcome["destination"],
        status=outcome["status"],
        channel=str(outcome["channel"]).upper(),
        client_ref=outcome["client_ref"],
        next_channels=[c.upper() for c in waiting["channels"].split(",")] if waiting and not reached else [],
        attempts=[
            AttemptView(
                channel=str(r["channel"]).upper(),
                status=r["status"],
                error=r["error"],
                price=from_micros(r["price"]),
                currency=actor.currency,
                sent_at=r["sent_at"],
                done_at=r["done_at"],
                handed_on=bool(r["cascaded"]),
            )
            for r in rows
        ],
    )
