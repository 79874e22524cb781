"""The SMS channel provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from core import ChannelCapabilities, OutboundMessage, Portal, ProviderError, SendResult
from plugins.sms.encoding import segments
from plugins.sms.schemas import SmppSettings


class SmsChannel:
    name: ClassVar[str] = "sms"
    label: ClassVar[str] = "SMS"
    settings_type: ClassVar[type[SmppSettings]] = SmppSettings
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(flash=True)

    def segments(self, text: str) -> int:
        return segments(text)

    async def start(self, portal: Portal) -> None:
        """Vendor binds are opened by the SMPP client, which the dispatch issue adds."""

    async def stop(self) -> None:
        """Nothing is open until the SMPP client exists."""

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> Sequence[SendResult]:
        raise ProviderError("The SMPP client is not part of this build yet; no SMS was sent")
