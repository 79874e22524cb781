"""The built-in URL shortener."""

from __future__ import annotations

from typing import ClassVar

from plugins.shortener.schemas import ShortenerSettings


class LocalShortener:
    """Links served by this installation on the short domains the owner grants (URL-1)."""

    name: ClassVar[str] = "local"
    label: ClassVar[str] = "Built-in shortener"
    settings_type: ClassVar[type[ShortenerSettings]] = ShortenerSettings
