"""The sandbox payment provider."""

from __future__ import annotations

from typing import ClassVar

from plugins.payments.schemas import SandboxPaymentSettings


class SandboxPayments:
    """A payment system for demos and tests; real providers register beside it."""

    name: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox"
    settings_type: ClassVar[type[SandboxPaymentSettings]] = SandboxPaymentSettings
