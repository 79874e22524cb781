"""The Portal façade: the running system as plugins and jobs see it (settings, Redis, queue, registries)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from saq import Queue

from core.events import Event, emit
from core.plugins import PluginRegistries, registries
from core.providers import DeliveryReport, InboundMessage, VendorConnection
from core.settings import Settings

log = logging.getLogger(__name__)


class Portal:
    """Created once per process by the app or the worker; the only object plugins get from the core."""

    def __init__(self, settings: Settings, redis: Redis, queue: Queue, send_queue: Queue) -> None:
        self.settings = settings
        self.redis = redis
        self.queue = queue
        self.send_queue = send_queue

    @property
    def registries(self) -> PluginRegistries:
        """Channels, payment providers, shorteners and settings types of the loaded plugins."""
        return registries()

    def plugin_settings(self, name: str) -> msgspec.Struct:
        """A plugin's settings from ``[plugins.<name>]`` of the config file and ``PORTAL_<NAME>_<FIELD>`` vars.

        Raises:
            KeyError: no plugin registered settings under ``name``.
            msgspec.ValidationError: a value has the wrong type (the message names it).
        """
        settings_type = self.registries.settings_types[name]
        values: dict[str, Any] = dict(self.settings.plugin_settings.get(name, {}))
        prefix = f"PORTAL_{name.upper()}_"
        for field in msgspec.structs.fields(settings_type):
            raw = os.environ.get(prefix + field.name.upper())
            if raw is not None:
                values[field.name] = raw
        return msgspec.convert(values, settings_type, strict=False)

    async def enqueue(self, task: str, **kwargs: Any) -> Any:
        """Enqueue a job; saq drops it silently when a job with the same key is still queued or active."""
        job = await self.queue.enqueue(task, **kwargs)
        if job is None:
            log.warning("job %s was not enqueued: a job with key %r is still queued or active", task, kwargs.get("key"))
        return job

    async def emit(self, event: Event) -> None:
        await emit(self, event)

    async def vendor_connections(self, channel: str) -> list[VendorConnection]:
        """The enabled vendor connections of a channel, as the owner configured them in the Admin Panel."""
        # Imported on use here and below: the dispatch modules import Portal themselves.
        from core.dispatch.connections import enabled_connections

        return await enabled_connections(channel)

    async def record_deliveries(self, channel: str, reports: Sequence[DeliveryReport]) -> None:
        """Apply a channel's delivery reports in bulk; duplicates, late and early reports are safe (DSP-5)."""
        from core.dispatch.receipts import record_deliveries

        await record_deliveries(self, channel, reports)

    async def record_inbound(self, messages: Sequence[InboundMessage]) -> None:
        """Store MO messages a channel received."""
        from core.dispatch.receipts import record_inbound

        await record_inbound(self, messages)
