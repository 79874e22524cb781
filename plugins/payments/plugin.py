"""Hook implementations of the payments plugin."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from core import PaymentProvider, hookimpl
from plugins.payments.provider import SandboxPayments
from plugins.payments.schemas import SandboxPaymentSettings


@hookimpl
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    register(SandboxPayments())


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("payments", SandboxPaymentSettings)
