"""Template premoderation (TPL-2, TEN-3): where the parent turned it on, a saved template waits for a request.

A new template, or a change to what it sends, is stored as waiting with a request in the parent's inbox, in one
transaction; only approved templates can make campaigns. Confirmed by the owner it is approved; declined it
shows the reason. A request is bound to the template's latest one, so a stale decision changes nothing.
"""

from __future__ import annotations

from typing import Any

from core.actor import Actor
from core.message_templates.tables import MessageTemplate
from core.tenancy import requests as chain
from core.tenancy.options import partner_options
from core.tenancy.schemas import RequestView
from core.web.i18n import N_

KIND = "template"
WAITING_REASON = N_("Waiting for your provider's approval")
STATUS_LABELS = {"approved": N_("Approved"), "waiting": N_("Waiting"), "declined": N_("Declined")}


async def premoderated(actor: Actor) -> bool:
    """Whether the actor's templates wait for approval (the owner has no one to ask)."""
    return not actor.is_owner and (await partner_options(actor.partner_id)).premoderate_templates


async def ask(actor: Actor, template_id: int, summary: dict[str, Any], *, ip: str = "") -> None:
    """Withdraw the template's open request, if any, and put a new one into the parent's inbox; call inside the
    transaction that stores the template."""
    row = await MessageTemplate.select(MessageTemplate.request_id).where(MessageTemplate.id == template_id).first()
    if row is not None and row["request_id"] is not None:
        await chain.withdraw(actor, row["request_id"], ip=ip)
    request_id = await chain.create_request(
        actor, kind=KIND, subject=f"Template {summary['name']}", payload={"template_id": template_id, **summary}
    )
    await MessageTemplate.update(
        {
            MessageTemplate.status: "waiting",
            MessageTemplate.status_reason: WAITING_REASON,
            MessageTemplate.request_id: request_id,
        }
    ).where(MessageTemplate.id == template_id)


async def _approved(view: RequestView) -> None:
    await MessageTemplate.update({MessageTemplate.status: "approved", MessageTemplate.status_reason: ""}).where(
        (MessageTemplate.id == view.payload["template_id"]) & (MessageTemplate.request_id == view.id)
    )


async def _dropped(view: RequestView) -> None:
    """Declined: the template shows why. Canceled: it was deleted or asked for again, nothing to do."""
    if view.status != "declined":
        return
    await MessageTemplate.update(
        {MessageTemplate.status: "declined", MessageTemplate.status_reason: f"Declined: {view.reason}"[:300]}
    ).where((MessageTemplate.id == view.payload["template_id"]) & (MessageTemplate.request_id == view.id))


def register() -> None:
    """Tie the template kind into the one request chain (called at start-up)."""
    chain.register_kind(chain.RequestKind(name=KIND, label=N_("Template"), on_confirmed=_approved, on_dropped=_dropped))
