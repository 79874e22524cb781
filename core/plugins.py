"""The plugin manager: built-in default plugins, then entry points of the ``campaign_portal`` group."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Iterable
from typing import Any

import msgspec
import pluggy

from core import hookspecs
from core.providers import ChannelProvider, PaymentProvider, Registry, Shortener, StandIn

ENTRY_POINT_GROUP = "campaign_portal"

# Core features that are written as plugins, so that the hooks are used by their own authors first.
DEFAULT_PLUGINS = ("core.default_plugins.menu",)

pm = pluggy.PluginManager("campaign_portal")
pm.add_hookspecs(hookspecs)


def load_plugins(allowed: Iterable[str] | None = None) -> None:
    """Register default plugins and, outside tests, those installed through entry points.

    Args:
        allowed: entry-point names to load (``PORTAL_PLUGINS``); ``None`` loads every installed plugin.
    """
    for module_name in DEFAULT_PLUGINS:
        if pm.get_plugin(module_name) is None:
            pm.register(importlib.import_module(module_name), module_name)
    # Tests register the plugins they need explicitly (as datasette does), so a developer's installed
    # extras never leak into a test run.
    if getattr(sys, "_called_from_test", False):
        return
    allowed_set = None if allowed is None else set(allowed)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed_set is not None and ep.name not in allowed_set:
            continue
        if pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), ep.name)
    if os.environ.get("PORTAL_TRACE_PLUGINS"):
        pm.trace.root.setwriter(print)
        pm.enable_tracing()


def _collect(hook: Any) -> list[Any]:
    items: list[Any] = []
    for result in hook():
        items.extend(result or ())
    return items


class PluginRegistries(msgspec.Struct, kw_only=True):
    """What the loaded plugins contributed, collected once when the app is built."""

    channels: Registry[ChannelProvider]
    payment_providers: Registry[PaymentProvider]
    shorteners: Registry[Shortener]
    stand_ins: dict[str, type[StandIn]]
    settings_types: dict[str, type[msgspec.Struct]]


def collect_registries() -> PluginRegistries:
    """Call every ``register_*`` hook once and return the filled registries."""
    channels: Registry[ChannelProvider] = Registry("channel", ChannelProvider)
    payments: Registry[PaymentProvider] = Registry("payment", PaymentProvider)
    shorteners: Registry[Shortener] = Registry("shortener", Shortener)
    settings_types: dict[str, type[msgspec.Struct]] = {}
    stand_ins: dict[str, type[StandIn]] = {}

    def register_stand_in(stand_in: type[StandIn]) -> None:
        if stand_in.channel in stand_ins:
            raise ValueError(f"a stand-in for {stand_in.channel!r} is registered twice")
        stand_ins[stand_in.channel] = stand_in

    def register_settings(name: str, settings_type: type[msgspec.Struct]) -> None:
        if name in settings_types:
            raise ValueError(f"settings {name!r} are registered twice")
        settings_types[name] = settings_type

    pm.hook.register_channels(register=channels.register)
    pm.hook.register_payment_providers(register=payments.register)
    pm.hook.register_shorteners(register=shorteners.register)
    pm.hook.register_settings(register=register_settings)
    pm.hook.register_stand_ins(register=register_stand_in)
    return PluginRegistries(
        channels=channels,
        payment_providers=payments,
        shorteners=shorteners,
        stand_ins=stand_ins,
        settings_types=settings_types,
    )


_registries: PluginRegistries | None = None


def registries() -> PluginRegistries:
    """The registries of the loaded plugins, collected on first use."""
    global _registries
    if _registries is None:
        _registries = collect_registries()
    return _registries


def reset_registries() -> None:
    """Forget collected registries, after plugins were registered or unregistered (tests do this)."""
    global _registries
    _registries = None


def plugin_routes() -> list[Any]:
    return _collect(pm.hook.register_routes)


def plugin_piccolo_apps() -> list[str]:
    return _collect(pm.hook.register_piccolo_apps)


def plugin_jobs() -> list[Any]:
    return _collect(pm.hook.register_jobs)


def plugin_template_dirs() -> list[str]:
    return _collect(pm.hook.template_dirs)
