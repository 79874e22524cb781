"""Hook implementations of the URL shortener plugin."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from core import Portal, Shortener, hookimpl
from plugins.shortener.provider import LocalShortener
from plugins.shortener.schemas import ShortenerSettings

SHORTENER = LocalShortener()  # one per process: its memory cache serves every redirect


@hookimpl
def register_shorteners(register: Callable[[Shortener], None]) -> None:
    register(SHORTENER)


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("shortener", ShortenerSettings)


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.shortener.piccolo_app"]


@hookimpl
def startup(portal: Portal) -> None:
    settings = portal.plugin_settings("shortener")
    assert isinstance(settings, ShortenerSettings)
    SHORTENER.settings = settings
