"""The built-in providers meet the core's provider Protocols at run time, as mypy checks them statically."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from core import ChannelProvider, PaymentProvider, Shortener, StandIn
from core.providers import Registry
from plugins.payments.provider import StripePayments
from plugins.payments.stand_in import StandInStripe
from plugins.shortener.provider import LocalShortener
from plugins.sms.provider import SmsChannel
from plugins.sms.simulator import StandInSmsc
from plugins.viber.provider import ViberChannel
from plugins.whatsapp.provider import WhatsAppChannel
from tests.fake_plugin.plugin import FakePay, FakeShort, TelegramChannel, TelegramStandIn


@pytest.mark.parametrize("provider", [SmsChannel(), ViberChannel(), WhatsAppChannel(), TelegramChannel()])
def test_channels_meet_the_channel_contract(provider: Any) -> None:
    assert isinstance(provider, ChannelProvider)


@pytest.mark.parametrize("provider", [StripePayments(), FakePay()])
def test_payment_providers_meet_the_payment_contract(provider: Any) -> None:
    assert isinstance(provider, PaymentProvider)


@pytest.mark.parametrize("provider", [LocalShortener(), FakeShort()])
def test_shorteners_meet_the_shortener_contract(provider: Any) -> None:
    assert isinstance(provider, Shortener)


@pytest.mark.parametrize("stand_in", [StandInSmsc(), StandInStripe(), TelegramStandIn()])
def test_stand_ins_meet_the_stand_in_contract(stand_in: Any) -> None:
    assert isinstance(stand_in, StandIn)


class _NameOnly:
    """A payment provider from before the contract grew: a name and a label but nothing to pay with."""

    name: ClassVar[str] = "old"
    label: ClassVar[str] = "Old"
    settings_type: ClassVar[type] = dict


def test_a_registry_refuses_a_provider_that_misses_part_of_its_contract() -> None:
    payments: Registry[Any] = Registry("payment", PaymentProvider)
    with pytest.raises(TypeError, match="is not a payment provider"):
        payments.register(_NameOnly())
    assert len(payments) == 0
