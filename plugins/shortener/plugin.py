"""Hook implementations of the URL shortener plugin."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from core import Shortener, hookimpl
from plugins.shortener.provider import LocalShortener
from plugins.shortener.schemas import ShortenerSettings


@hookimpl
def register_shorteners(register: Callable[[Shortener], None]) -> None:
    register(LocalShortener())


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("shortener", ShortenerSettings)
