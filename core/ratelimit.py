"""A vendor connection's messages-per-second limit shared by every worker process: a token bucket in Redis (DSP-4)."""

from __future__ import annotations

from typing import Any

# Refill by elapsed time (Redis' own clock, so workers on several machines agree), grant up to ARGV[3] tokens;
# else how many ms until one token is there.
_BUCKET_LUA = """
local rate, capacity, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or capacity
local ts = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate / 1000)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], 60000)
if granted > 0 then return {granted, 0} end
return {0, math.ceil((1 - tokens) * 1000 / rate)}
"""


class SharedBucket:
    """``rate`` tokens a second (and at most ``rate`` saved up) under ``key``, for every process that uses it.

    Callers take tokens in chunks (a tenth of the rate is usual) to keep the round trips to about ten a second,
    and fall back to a limit of their own when Redis fails (``take`` raises what the client raises).
    """

    def __init__(self, redis: Any, key: str) -> None:
        self.key = key
        self._script = redis.register_script(_BUCKET_LUA)

    async def take(self, rate: int, want: int) -> tuple[int, float]:
        """Up to ``want`` tokens now; or none and the seconds until one is there."""
        granted, wait_ms = await self._script(keys=[self.key], args=[rate, rate, want])
        return int(granted), int(wait_ms) / 1000
