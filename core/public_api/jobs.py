"""saq tasks of the public API: one send job per accepted HTTP request (keyed, carrying that key), and its sweep."""

from __future__ import annotations

from typing import Any

from core.dispatch import callbacks
from core.dispatch.queueing import touching
from core.public_api import auto_replies, cascade
from core.public_api.delivery import expire_messages, resend_stalled, send_job


async def send_api_request(ctx: dict[str, Any], *, job: str) -> str:
    """Send an HTTP request's messages in batches (its api_request rows); enqueued once it is accepted."""
    async with touching(ctx.get("job")):
        return await send_job(ctx["portal"], job)


async def sweep_api_requests(ctx: dict[str, Any]) -> str:
    """Every minute: requests accepted a while ago whose send job is gone get it again; messages with no report
    within their validity end undelivered (the dispatch sweeper does this for campaigns); old finished callbacks and
    expired acceptMO expectations go."""
    resent = await resend_stalled(ctx["portal"])
    await callbacks.forget_finished()
    await callbacks.forget_expectations()
    expired = await expire_messages(ctx["portal"])
    return f"{resent} send jobs enqueued again, {expired} messages expired"


async def hand_over_api_cascades(ctx: dict[str, Any]) -> str:
    """Every ten seconds: API cascade attempts that ended undelivered or failed, or were not delivered within their
    fallbackTtl, are handed on to their next channel in bulk (``core.public_api.cascade``)."""
    return f"{await cascade.hand_over(ctx['portal'])} API messages handed on to their next channel"


async def answer_inbound(ctx: dict[str, Any], *, ids: list[int]) -> str:
    """Answer a stored batch of MO messages by their partners' reply templates (queued by the inbound listener)."""
    return f"{await auto_replies.answer_inbound(ctx['portal'], ids)} MO messages answered"
