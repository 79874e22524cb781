"""The Portal façade: the running system as plugins and jobs see it (settings, Redis, queue, registries)."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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

    def webhook_url(self, channel: str, connection_id: int) -> str:
        """Where the vendor of one connection calls back (``/hooks/<channel>/<connection id>``), on the
        installation's webhook base (PORTAL_WEBHOOK_BASE_URL), which need not be any portal's host."""
        base = self.settings.webhook_base_url.rstrip("/")
        if not base:
            s = self.settings
            default_port = {"http": 80, "https": 443}[s.public_scheme]
            port = f":{s.public_port}" if s.public_port and s.public_port != default_port else ""
            base = f"{s.public_scheme}://{s.host}{port}"
        return f"{base}/hooks/{channel}/{connection_id}"

    async def vendor_connections(self, channel: str) -> list[VendorConnection]:
        """The enabled vendor connections of a channel, as the owner configured them in the Admin Panel."""
        return await _wired().vendor_connections(channel)

    async def record_deliveries(self, channel: str, reports: Sequence[DeliveryReport]) -> None:
        """Apply a channel's delivery reports in bulk; duplicates, late and early reports are safe (DSP-5)."""
        await _wired().record_deliveries(self, channel, reports)

    async def record_inbound(self, messages: Sequence[InboundMessage]) -> None:
        """Store MO messages a channel received."""
        await _wired().record_inbound(self, messages)


@dataclass(frozen=True, slots=True)
class EngineCalls:
    """What the Portal asks of the sending engine (core.dispatch), which sits layers above this façade and so
    is handed over at start-up (core.app wires it) instead of imported."""

    vendor_connections: Callable[[str], Awaitable[list[VendorConnection]]]
    record_deliveries: Callable[[Portal, str, Sequence[DeliveryReport]], Awaitable[None]]
    record_inbound: Callable[[Portal, Sequence[InboundMessage]], Awaitable[None]]


_engine: EngineCalls | None = None


def wire_engine(calls: EngineCalls) -> None:
    """Hand the Portal the engine's functions; the same ones every time, so wiring twice is harmless."""
    global _engine
    _engine = calls


def _wired() -> EngineCalls:
    if _engine is None:
        raise RuntimeError("the sending engine is not wired to the Portal (core.app.wire_engine runs at start-up)")
    return _engine
