"""The e-mail that tells a requester how its request (TEN-5) was decided, in the brand of its own portal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.mail.services import send_mail
from core.tenancy.resolver import PortalContext, resolver
from core.tenancy.schemas import RequestView
from core.tenancy.tables import Partner, PortalHost

if TYPE_CHECKING:
    from core.portal import Portal


async def site_of(partner_id: int) -> PortalContext | None:
    """The portal the requester's users sign in on: its brand, language and links, not the decider's."""
    partner = await Partner.select(Partner.portal_id).where(Partner.id == partner_id).first()
    if partner is None or partner["portal_id"] is None:
        return None
    host = (
        await PortalHost.select(PortalHost.host)
        .where(PortalHost.portal == partner["portal_id"])
        .order_by(PortalHost.id)
        .first()
    )
    return await resolver.resolve(host["host"]) if host else None


async def mail_decision(portal: Portal, view: RequestView) -> None:
    """A decision listener (core.tenancy.requests.add_decision_listener): one mail to the user who asked."""
    if not view.requester_email:
        return
    await send_mail(
        portal,
        to=view.requester_email,
        template="request_decided",
        language=view.requester_language,
        site=await site_of(view.partner_id),
        partner_id=view.partner_id,
        context={"subject": view.subject, "status": view.status, "reason": view.reason},
    )
