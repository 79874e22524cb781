"""campaign-portal core; this module is the whole surface plugins may import."""

import os

# Piccolo finds its engine through this module; set before any table is queried, whoever imports first.
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")


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
    ChannelCapabilities,
    ChannelProvider,
    MenuLink,
    OutboundMessage,
    PaymentProvider,
    SendResult,
    Shortener,
)
from core.tenancy.schemas import Actor
from core.web.shell import page as render_page

__all__ = (
    "Actor",
    "CampaignStatusChanged",
    "ChannelCapabilities",
    "ChannelProvider",
    "Conflict",
    "Forbidden",
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
    "TemporaryProviderError",
    "Unauthenticated",
    "hookimpl",
    "render_page",
)
