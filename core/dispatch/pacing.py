"""Throughput limits (CMP-8): a campaign's senders book consecutive slots of time in Redis, one per batch.

Every worker sending the campaign books from the same key, so the limit holds however many senders run; a
slot is ``messages / per_second`` long and starts when the previous one ends (or now, when that is later).
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

PREFIX = "dispatch:pace:"
# KEYS[1]: the campaign's next free instant; ARGV: now, the slot's length (s). Returns the wait before the slot.
_BOOK = """
local now = tonumber(ARGV[1])
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local free = start + tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.6f', free), 'PX', math.ceil((free - now) * 1000) + 60000)
return string.format('%.6f', start - now)
"""


async def wait_turn(redis: Redis, campaign_id: int, messages: int, per_second: int) -> float:
    """Book the next slot for ``messages`` and sleep until it starts; the seconds waited."""
    wait = float(await redis.eval(_BOOK, 1, f"{PREFIX}{campaign_id}", repr(time.time()), repr(messages / per_second)))
    if wait > 0:
        await asyncio.sleep(wait)
    return wait
