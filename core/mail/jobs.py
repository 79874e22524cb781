"""saq task of the mail domain: deliver one stored message, retried by saq while the server refuses."""

from __future__ import annotations

from typing import Any

from core.mail import services


async def deliver_mail(ctx: dict[str, Any], *, mail_id: int) -> str:
    """Send message ``mail_id`` through SMTP_URL (or keep it in the outbox); a sent message is never resent."""
    job = ctx.get("job")
    # saq counts this run in job.attempts before calling us; when it reaches job.retries nothing follows.
    final_attempt = job is None or job.attempts >= job.retries
    return await services.deliver(ctx["portal"].settings, mail_id, final_attempt=final_attempt)
