"""saq tasks of the dispatch engine; each carries a campaign id, never messages (ARCHITECTURE rule 4)."""

from __future__ import annotations

import logging
from typing import Any

from core.dispatch import sending
from core.dispatch.expansion import expand
from core.dispatch.sweeper import sweep
from core.portal import Portal

log = logging.getLogger(__name__)

SENDERS_PER_CAMPAIGN = 4


async def enqueue_prepare(portal: Portal, campaign_id: int) -> None:
    await portal.enqueue(
        "prepare_campaign", campaign_id=campaign_id, key=f"prepare:{campaign_id}", timeout=0, retries=3
    )


async def enqueue_senders(portal: Portal, campaign_id: int) -> None:
    """Up to four send jobs per campaign; one already queued or running under a key is not doubled."""
    for slot in range(SENDERS_PER_CAMPAIGN):
        # Not portal.enqueue: a dropped duplicate is the point here, not something to warn about.
        await portal.send_queue.enqueue(
            "send_campaign", campaign_id=campaign_id, key=f"send:{campaign_id}:{slot}", timeout=0, retries=0
        )


async def prepare_campaign(ctx: dict[str, Any], *, campaign_id: int) -> str:
    """Expand the campaign; senders are started after the first chunk is committed."""
    portal: Portal = ctx["portal"]

    async def on_chunk() -> None:
        await enqueue_senders(portal, campaign_id)

    finished = await expand(portal, campaign_id, on_chunk)
    if finished:
        await enqueue_senders(portal, campaign_id)
    return "expanded" if finished else "stopped: the campaign is no longer in progress"


async def send_campaign(ctx: dict[str, Any], *, campaign_id: int) -> str:
    """Claim and send the campaign's ready batches (one of up to four such jobs)."""
    return await sending.send_campaign(ctx["portal"], campaign_id)


async def sweep_dispatch(ctx: dict[str, Any]) -> str:
    return str(await sweep(ctx["portal"]))


async def start_due_campaigns(ctx: dict[str, Any]) -> int:
    from core.campaigns.services import start_due

    return await start_due(ctx["portal"])
