"""Hook implementations of the SMS plugin."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from core import ChannelProvider, StandIn, hookimpl
from plugins.sms.provider import SmsChannel
from plugins.sms.schemas import SmppSettings
from plugins.sms.simulator import StandInSmsc


@hookimpl
def register_channels(register: Callable[[ChannelProvider], None]) -> None:
    register(SmsChannel())


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("sms", SmppSettings)


@hookimpl
def register_stand_ins(register: Callable[[type[StandIn]], None]) -> None:
    register(StandInSmsc)
