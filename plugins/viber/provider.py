"""The Viber channel provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from core import ChannelCapabilities, OutboundMessage, Portal, ProviderError, SendResult, SubmitProgress
from plugins.viber.schemas import ViberSettings

VIBER_MAX_TEXT = 1_000


class ViberChannel:
    name: ClassVar[str] = "viber"
    label: ClassVar[str] = "Viber"
    settings_type: ClassVar[type[ViberSettings]] = ViberSettings
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(images=True, buttons=True, seen=True)

    def segments(self, text: str) -> int:
        """A Viber message is one billable unit whatever its length (up to the vendor's limit)."""
        return 1 if text else 0

    async def start(self, portal: Portal) -> None:
        """HTTP vendors need no long-lived connection."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def send_batch(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None
    ) -> Sequence[SendResult]:
        raise ProviderError("The Viber vendor client is not part of this build yet; no message was sent")
