"""Campaign premoderation (TEN-3, CMP-1): where the parent turned it on, a new campaign waits for a request.

The campaign is stored as Waiting with a request in the parent's inbox, in one transaction. Confirmed (by the
owner, after any resellers passed it up), it becomes Scheduled and starts at once when its time has come;
declined, it is canceled with the decliner's reason; the user canceling it withdraws the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from core.actor import Actor
from core.campaigns.tables import Campaign
from core.portal import Portal
from core.tenancy import requests as chain
from core.tenancy.options import partner_options
from core.tenancy.schemas import RequestView
from core.web.i18n import N_

KIND = "campaign"
WAITING_REASON = N_("Waiting for your provider's approval")

# services.start_campaign, handed over at registration: the services module stores campaigns through this one.
Starter = Callable[[Portal, int, set[str]], Awaitable[bool]]
_start: list[Starter] = []


async def premoderated(actor: Actor) -> bool:
    """Whether the actor's new campaigns wait for approval (the owner has no one to ask)."""
    return not actor.is_owner and (await partner_options(actor.partner_id)).premoderate_campaigns


async def ask(actor: Actor, campaign_id: int, summary: dict[str, Any]) -> int:
    """Put the campaign's request into the parent's inbox; call inside the transaction that stores it."""
    request_id = await chain.create_request(
        actor, kind=KIND, subject=f"Campaign {summary['name']}", payload={"campaign_id": campaign_id, **summary}
    )
    await Campaign.update({Campaign.request_id: request_id}).where(Campaign.id == campaign_id)
    return request_id


async def _approved(view: RequestView) -> None:
    await Campaign.update({Campaign.status: "scheduled", Campaign.status_reason: ""}).where(
        (Campaign.id == view.payload["campaign_id"]) & (Campaign.status == "waiting")
    )


async def _dropped(view: RequestView) -> None:
    reason = f"Declined: {view.reason}" if view.status == "declined" else "Canceled by the user"
    await Campaign.update(
        {Campaign.status: "canceled", Campaign.status_reason: reason[:300], Campaign.finished_at: datetime.now(UTC)}
    ).where((Campaign.id == view.payload["campaign_id"]) & (Campaign.status == "waiting"))


async def _start_approved(portal: Portal, view: RequestView) -> None:
    """After the confirmation committed: a campaign meant to go now starts now, not at the scheduler's next tick."""
    if view.kind != KIND or view.status != "confirmed" or not _start:
        return
    row = await Campaign.select(Campaign.scheduled_at).where(Campaign.id == view.payload["campaign_id"]).first()
    if row is not None and row["scheduled_at"] is not None and row["scheduled_at"] <= datetime.now(UTC):
        await _start[0](portal, view.payload["campaign_id"], {"scheduled"})


def register(start: Starter) -> None:
    """Tie the campaign kind into the one request chain (called at start-up)."""
    _start[:] = [start]
    chain.register_kind(chain.RequestKind(name=KIND, label=N_("Campaign"), on_confirmed=_approved, on_dropped=_dropped))
    chain.add_decision_listener(_start_approved)
