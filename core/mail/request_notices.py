"""The e-mail that tells a requester how its request (TEN-5) was decided."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.mail.services import send_mail
from core.tenancy.schemas import RequestView

if TYPE_CHECKING:
    from core.portal import Portal


async def mail_decision(portal: Portal, view: RequestView) -> None:
    """A decision listener (core.tenancy.requests.add_decision_listener): one mail to the user who asked."""
    if not view.requester_email:
        return
    await send_mail(
        portal,
        to=view.requester_email,
        template="request_decided",
        language=view.requester_language,
        partner_id=view.partner_id,
        context={"subject": view.subject, "status": view.status, "reason": view.reason},
    )
