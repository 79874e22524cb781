"""Events the core announces to plugins, and the one function that announces them."""

from __future__ import annotations

import inspect
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec
from pluggy import HookImpl

from core.plugins import pm

if TYPE_CHECKING:
    from core.portal import Portal

log = logging.getLogger(__name__)


class MessageStatusChange(msgspec.Struct, frozen=True, kw_only=True):
    """One EDR's new status."""

    edr_id: int
    partner_id: int
    channel: str
    status: str
    transaction_id: str = ""


class MessageStatusChanged(msgspec.Struct, frozen=True, kw_only=True):
    """A batch of EDR status changes (delivery reports are applied in bulk)."""

    changes: tuple[MessageStatusChange, ...]


class CampaignStatusChanged(msgspec.Struct, frozen=True, kw_only=True):
    campaign_id: int
    partner_id: int
    old_status: str
    new_status: str
    reason: str = ""


class PaymentSettled(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: int
    partner_id: int
    provider: str
    amount_micros: int
    currency: str


class LinkClicked(msgspec.Struct, frozen=True, kw_only=True):
    link_id: int
    partner_id: int
    campaign_id: int | None
    clicked_at: datetime
    os: str = ""
    browser: str = ""
    device: str = ""


Event = MessageStatusChanged | CampaignStatusChanged | PaymentSettled | LinkClicked

_HOOK_OF = {
    MessageStatusChanged: "message_status_changed",
    CampaignStatusChanged: "campaign_status_changed",
    PaymentSettled: "payment_settled",
    LinkClicked: "link_clicked",
}


def _in_registration_order(impls: list[HookImpl]) -> list[HookImpl]:
    rank = {name: index for index, (name, _) in enumerate(pm.list_name_plugin())}
    return sorted(impls, key=lambda impl: (not impl.tryfirst, impl.trylast, rank.get(impl.plugin_name, len(rank))))


async def emit(portal: Portal, event: Event) -> None:
    """Call the event's hook on every plugin, in registration order, and await what they return.

    The first plugin registered is called first (``tryfirst``/``trylast`` listeners before/after the rest);
    pluggy's own call order is the reverse, so the order is set here rather than left to pluggy's internals.
    A plugin that raises is logged and skipped: one broken listener must not undo the core's work.
    """
    hook = getattr(pm.hook, _HOOK_OF[type(event)])
    for impl in _in_registration_order(hook.get_hookimpls()):
        try:
            available = {"portal": portal, "event": event}
            result = impl.function(**{name: available[name] for name in impl.argnames})
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("plugin %s failed in %s", impl.plugin_name, hook.name)
