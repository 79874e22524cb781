"""Per-key rate limit of the public API (API-4): a token bucket in Redis, one Lua script, shared by every process."""

from __future__ import annotations

import math

from redis.asyncio import Redis

# Requests per second a key may keep up, and how many it may send at once after a quiet spell.
RATE_PER_S = 50.0
BURST = 100
PREFIX = "api:bucket:"

# The script reads Redis's own clock, so web processes on machines with skewed clocks still share one bucket.
_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


async def take(redis: Redis, key_id: int, *, rate: float | None = None, burst: int | None = None) -> int:
    """Take one token for the key; 0 when allowed, else the whole seconds to wait (for ``Retry-After``)."""
    wait = float(await redis.eval(_BUCKET, 1, f"{PREFIX}{key_id}", rate or RATE_PER_S, burst or BURST))
    return 0 if wait <= 0 else max(1, math.ceil(wait))
