"""saq tasks of the dispatch engine; each carries a campaign id, never messages (ARCHITECTURE rule 4)."""

from __future__ import annotations

from typing import Any

from saq import Status

from core.dispatch import callbacks, sending
from core.dispatch.expansion import expand
from core.dispatch.queueing import enqueue_sender, enqueue_senders, touching
from core.dispatch.sweeper import sweep
from core.portal import Portal


async def prepare_campaign(ctx: dict[str, Any], *, campaign_id: int) -> str:
    """Expand the campaign; senders are started after the first chunk is committed."""
    portal: Portal = ctx["portal"]

    async def on_chunk() -> None:
        await enqueue_senders(portal, campaign_id)

    async with touching(ctx.get("job")):
        finished = await expand(portal, campaign_id, on_chunk)
    if finished:
        await enqueue_senders(portal, campaign_id)
    return "expanded" if finished else "stopped: the campaign is no longer in progress"


async def send_campaign(ctx: dict[str, Any], *, campaign_id: int) -> str:
    """Claim and send the campaign's ready batches (one of up to four such jobs)."""
    job = ctx.get("job")
    async with touching(job):
        return await sending.send_campaign(ctx["portal"], campaign_id, quantum_s=sending.QUANTUM_S if job else None)


async def requeue_yielded(ctx: dict[str, Any]) -> None:
    """After a send job: one that gave its slot up to waiting jobs is queued again, behind them (saq has finished it
    by now, so its key is free)."""
    job = ctx.get("job")
    if job is None or job.function != "send_campaign" or job.status != Status.COMPLETE:
        return
    if str(job.result or "").startswith(sending.YIELDED):
        await enqueue_sender(ctx["portal"], job.kwargs["campaign_id"], job.key)


async def sweep_dispatch(ctx: dict[str, Any]) -> str:
    return str(await sweep(ctx["portal"]))


async def start_due_campaigns(ctx: dict[str, Any]) -> int:
    from core.campaigns.services import start_due

    return await start_due(ctx["portal"])


async def deliver_callbacks(ctx: dict[str, Any]) -> str:
    """Every two seconds: post the due callbacks of the outbox through the worker's one pooled client."""
    # Kept in the worker's own context, which its shutdown closes: a job's ctx is a copy of it, so a client kept
    # there was made again every run (the CA bundle loaded each time: 0.3 s of CPU every two seconds, profiled).
    home = ctx["worker"].context if "worker" in ctx else ctx
    if "callback_client" not in home:
        home["callback_client"] = callbacks.make_client(allow_private=ctx["portal"].settings.callbacks_allow_private)
    return f"{await callbacks.deliver_due(home['callback_client'])} callbacks tried"
