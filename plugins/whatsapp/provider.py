"""The WhatsApp channel provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from core import ChannelCapabilities, OutboundMessage, Portal, ProviderError, SendResult, SubmitProgress
from plugins.whatsapp.schemas import WhatsAppSettings


class WhatsAppChannel:
    name: ClassVar[str] = "whatsapp"
    label: ClassVar[str] = "WhatsApp"
    settings_type: ClassVar[type[WhatsAppSettings]] = WhatsAppSettings
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        images=True, buttons=True, templates=True, seen=True
    )

    def segments(self, text: str) -> int:
        """WhatsApp bills per template message."""
        return 1 if text else 0

    async def start(self, portal: Portal) -> None:
        """HTTP vendors need no long-lived connection."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def send_batch(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None
    ) -> Sequence[SendResult]:
        raise ProviderError("The WhatsApp Cloud API client is not part of this build yet; no message was sent")
