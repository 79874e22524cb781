"""Hook implementations of the Viber plugin."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from core import ChannelProvider, StandIn, hookimpl
from plugins.viber.provider import ViberChannel
from plugins.viber.schemas import ViberSettings
from plugins.viber.simulator import StandInViber


@hookimpl
def register_channels(register: Callable[[ChannelProvider], None]) -> None:
    register(ViberChannel())


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("viber", ViberSettings)


@hookimpl
def register_stand_ins(register: Callable[[type[StandIn]], None]) -> None:
    register(StandInViber)
