"""campaign-portal core; this module is the whole surface plugins may import."""

import os

# Piccolo finds its engine through this module; set before any table is queried, whoever imports first.
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")


from core.actor import Actor
from core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PortalError,
    ProviderError,
    TemporaryProviderError,
    Unauthenticated,
)
from core.events import CampaignStatusChanged, LinkClicked, MessageStatusChange, MessageStatusChanged, PaymentSettled
from core.hookspecs import hookimpl
from core.portal import Portal
from core.providers import (
    DELIVERY_STATES,
    ChannelCapabilities,
    ChannelProvider,
    DeliveryReport,
    InboundMessage,
    MenuLink,
    OutboundMessage,
    PaymentProvider,
    SendResult,
    Shortener,
    StandIn,
    SubmitProgress,
    VendorConnection,
)
from core.web.shell import page as render_page

__all__ = (
    "DELIVERY_STATES",
    "Actor",
    "CampaignStatusChanged",
    "ChannelCapabilities",
    "ChannelProvider",
    "Conflict",
    "DeliveryReport",
    "Forbidden",
    "InboundMessage",
    "InvalidInput",
    "LinkClicked",
    "MenuLink",
    "MessageStatusChange",
    "MessageStatusChanged",
    "NotFound",
    "OutboundMessage",
    "PaymentProvider",
    "PaymentSettled",
    "Portal",
    "PortalError",
    "ProviderError",
    "SendResult",
    "Shortener",
    "StandIn",
    "SubmitProgress",
    "TemporaryProviderError",
    "Unauthenticated",
    "VendorConnection",
    "hookimpl",
    "render_page",
)
