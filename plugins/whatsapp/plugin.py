"""Hook implementations of the WhatsApp plugin."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from core import ChannelProvider, StandIn, hookimpl
from plugins.whatsapp.provider import WhatsAppChannel
from plugins.whatsapp.schemas import WhatsAppSettings
from plugins.whatsapp.simulator import StandInWhatsApp


@hookimpl
def register_channels(register: Callable[[ChannelProvider], None]) -> None:
    register(WhatsAppChannel())


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("whatsapp", WhatsAppSettings)


@hookimpl
def register_stand_ins(register: Callable[[type[StandIn]], None]) -> None:
    register(StandInWhatsApp)
