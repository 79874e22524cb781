"""Channel providers as this worker process runs them: started on first use, restarted when the owner
changed the channel's vendor connections (their count or latest update differs from what was bound)."""

from __future__ import annotations

import asyncio
from typing import Any

from core.dispatch.tables import VendorConnection
from core.portal import Portal
from core.providers import ChannelProvider

_bound: dict[str, tuple[Any, ...]] = {}
_locks: dict[str, asyncio.Lock] = {}


async def _version(channel: str) -> tuple[Any, ...]:
    rows = await VendorConnection.raw(
        "SELECT count(*) AS n, max(updated_at) AS at FROM vendor_connection WHERE channel = {}", channel
    )
    return (rows[0]["n"], rows[0]["at"])


async def ready_provider(portal: Portal, channel: str) -> ChannelProvider:
    """The channel's provider, bound to the connections configured now.

    Raises:
        LookupError: no plugin provides this channel in this process.
    """
    provider = portal.registries.channels.get(channel)
    if provider is None:
        raise LookupError(f"no plugin provides the {channel} channel")
    version = await _version(channel)
    if _bound.get(channel) == version:
        return provider
    async with _locks.setdefault(channel, asyncio.Lock()):
        if _bound.get(channel) != version:
            if channel in _bound:
                await provider.stop()
            await provider.start(portal)
            _bound[channel] = version
    return provider


async def stop_all(portal: Portal) -> None:
    """Unbind every started provider (worker shutdown)."""
    for channel in list(_bound):
        provider = portal.registries.channels.get(channel)
        if provider is not None:
            await provider.stop()
        del _bound[channel]
