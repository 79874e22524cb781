"""The built-in URL shortener."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from core import Click, LinkRecipient, LinkTarget, ProviderError, ShortLink
from plugins.shortener.schemas import ShortenerSettings

_NOT_BUILT = "The built-in shortener's link store is not part of this build yet"


class LocalShortener:
    """Links served by this installation on the short domains the owner grants (URL-1)."""

    name: ClassVar[str] = "local"
    label: ClassVar[str] = "Built-in shortener"
    settings_type: ClassVar[type[ShortenerSettings]] = ShortenerSettings

    async def shorten(self, domain: str, url: str, recipients: Sequence[LinkRecipient]) -> Sequence[ShortLink]:
        raise ProviderError(f"{_NOT_BUILT}; no link was shortened")

    async def resolve(self, domain: str, code: str) -> LinkTarget | None:
        raise ProviderError(_NOT_BUILT)

    async def record_click(self, target: LinkTarget, click: Click) -> None:
        raise ProviderError(_NOT_BUILT)
