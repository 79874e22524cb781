"""saq task of the public API: one per accepted request, carrying its id (ARCHITECTURE rule 4)."""

from __future__ import annotations

from typing import Any

from core.dispatch.queueing import touching
from core.public_api.delivery import send_request


async def send_api_request(ctx: dict[str, Any], *, request_ids: list[int]) -> str:
    """Send an HTTP request's messages in batches (its api_request rows); enqueued once it is accepted."""
    async with touching(ctx.get("job")):
        return "; ".join([await send_request(ctx["portal"], request_id) for request_id in request_ids])
