"""Hook implementations of the payments plugin."""

from __future__ import annotations

from collections.abc import Callable

from core import PaymentProvider, StandIn, hookimpl
from plugins.payments.provider import StripePayments
from plugins.payments.stand_in import StandInStripe


@hookimpl
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    register(StripePayments())


@hookimpl
def register_stand_ins(register: Callable[[type[StandIn]], None]) -> None:
    register(StandInStripe)
