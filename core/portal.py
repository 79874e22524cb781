"""The Portal façade: the running system as plugins and jobs see it (settings, Redis, queue, registries)."""

from __future__ import annotations

import os
from typing import Any

import msgspec
from redis.asyncio import Redis
from saq import Queue

from core.events import Event, emit
from core.plugins import PluginRegistries, registries
from core.settings import Settings


class Portal:
    """Created once per process by the app or the worker; the only object plugins get from the core."""

    def __init__(self, settings: Settings, redis: Redis, queue: Queue) -> None:
        self.settings = settings
        self.redis = redis
        self.queue = queue

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
        return await self.queue.enqueue(task, **kwargs)

    async def emit(self, event: Event) -> None:
        await emit(self, event)
