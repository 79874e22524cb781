"""The click worker's side of the stream: read clicks in bulk, parse their user agents, store them, acknowledge.

Clicks are read through a consumer group, and acknowledged (and deleted) only after the shortener stored them. A
worker that dies in between leaves them pending; the next run of any worker claims entries idle for longer than
``CLAIM_IDLE_MS`` and stores them, so a restart loses no click. Each click carries its entry id as its key and is
stored once, so a worker that claims the entries of one only slow to acknowledge them duplicates nothing (their
click callbacks, queued in the same transaction, may then be posted twice: at least once, like every callback).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import msgspec
import ua_parser
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core.db import is_sqlite, write_transaction
from core.dispatch.callbacks import queue_click_callbacks
from core.events import LinkClicked
from core.portal import Portal
from core.providers import Click, LinkTarget, active_shortener
from core.rawsql import RawSql
from core.shortlinks.stream import DECODER, GROUP, STREAM

log = logging.getLogger(__name__)

READ_COUNT = 5_000
CLAIM_IDLE_MS = 30_000
CONSUMER = f"{socket.gethostname()}-{os.getpid()}"


def describe(user_agent: str) -> tuple[str, str, str]:
    """(OS, browser, device) families of a user agent; ua-parser builds its matcher once per process."""
    if not user_agent:
        return "", "", ""
    result = ua_parser.parse(user_agent)
    os_name = result.os.family if result.os else ""
    browser = result.user_agent.family if result.user_agent else ""
    device = result.device.family if result.device else ""
    # Viber's in-app browser sends "Viber/21.6.0.0 (Android 13)", which ua-parser reads as plain Android.
    if user_agent.startswith("Viber/"):
        browser = "Viber"
    return os_name, browser, device


async def ensure_group(redis: Redis) -> None:
    try:
        await redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def _store(portal: Portal, entries: list[Any]) -> int:
    """Store one read of entries, then acknowledge and delete them; returns the clicks stored."""
    shortener = active_shortener(portal.registries.shorteners)
    ids = [entry_id for entry_id, _ in entries]
    clicks: list[tuple[LinkTarget, Click]] = []
    for entry_id, fields in entries:
        if not fields:  # deleted from the stream meanwhile (trimmed): nothing to store
            continue
        try:
            entry = DECODER.decode(fields[b"c"])
        except (KeyError, msgspec.DecodeError):
            log.warning("dropped an unreadable click entry")
            continue
        os_name, browser, device = describe(entry.user_agent)
        click = Click(
            clicked_at=entry.clicked_at,
            user_agent=entry.user_agent,
            os=os_name,
            browser=browser,
            device=device,
            key=entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id),
        )
        clicks.append((entry.target, click))
    if clicks and shortener is not None:
        # The clicks and their callbacks commit together: a stored click always has its callbacks queued.
        async with write_transaction() as tx:
            await shortener.record_clicks(clicks)
            await queue_click_callbacks(RawSql(tx.connection, sqlite=is_sqlite()), clicks)
    if ids:
        async with portal.redis.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, *ids)
            pipe.xdel(STREAM, *ids)
            await pipe.execute()
    for target, click in clicks:
        event = LinkClicked(
            link_id=target.link_id,
            partner_id=target.recipient.partner_id,
            campaign_id=target.recipient.campaign_id,
            clicked_at=click.clicked_at,
            os=click.os,
            browser=click.browser,
            device=click.device,
        )
        await portal.emit(event)
    return len(clicks)


async def flush(
    portal: Portal, consumer: str = CONSUMER, *, idle_ms: int = CLAIM_IDLE_MS, count: int = READ_COUNT
) -> int:
    """Store every click waiting in the stream, those a dead worker left pending first; returns how many."""
    redis = portal.redis
    await ensure_group(redis)
    stored = 0
    start = "0-0"
    while True:
        start, entries, *_ = await redis.xautoclaim(STREAM, GROUP, consumer, idle_ms, start_id=start, count=count)
        if entries:
            stored += await _store(portal, entries)
        if start in (b"0-0", "0-0"):
            break
    while True:
        answer: Any = await redis.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count)
        entries = answer[0][1] if answer else []
        if not entries:
            return stored
        stored += await _store(portal, entries)
