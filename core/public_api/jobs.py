"""saq task of the public API: one per accepted request, carrying its id (ARCHITECTURE rule 4)."""

from __future__ import annotations

from typing import Any

from core.dispatch.queueing import touching
from core.public_api.delivery import send_request


async def send_api_request(ctx: dict[str, Any], *, request_id: int) -> str:
    """Send the request's messages in batches; enqueued on the send queue once the request is accepted."""
    async with touching(ctx.get("job")):
        return await send_request(ctx["portal"], request_id)
