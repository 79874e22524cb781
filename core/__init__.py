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
    ChannelCallback,
    ChannelCapabilities,
    ChannelProvider,
    Checkout,
    CheckoutRequest,
    Click,
    ClickStats,
    DeliveryReport,
    InboundMessage,
    LinkGroup,
    LinkRecipient,
    LinkTarget,
    MenuLink,
    OutboundMessage,
    PaymentAccount,
    PaymentProvider,
    PaymentUpdate,
    RefundResult,
    SendResult,
    Shortener,
    ShortLink,
    StandIn,
    SubmitProgress,
    TemplateChannel,
    TemplateRemoval,
    TemplateReview,
    TemplateSubmission,
    VendorConnection,
    WebhookChannel,
    WebhookHandshake,
    WebhookRequest,
    template_param_numbers,
    template_params,
)
from core.ratelimit import SharedBucket
from core.vendor_http import HttpVendorClient
from core.web.i18n import N_
from core.web.shell import page as render_page

__all__ = (
    "DELIVERY_STATES",
    "N_",
    "Actor",
    "CampaignStatusChanged",
    "ChannelCallback",
    "ChannelCapabilities",
    "ChannelProvider",
    "Checkout",
    "CheckoutRequest",
    "Click",
    "ClickStats",
    "Conflict",
    "DeliveryReport",
    "Forbidden",
    "HttpVendorClient",
    "InboundMessage",
    "InvalidInput",
    "LinkClicked",
    "LinkGroup",
    "LinkRecipient",
    "LinkTarget",
    "MenuLink",
    "MessageStatusChange",
    "MessageStatusChanged",
    "NotFound",
    "OutboundMessage",
    "PaymentAccount",
    "PaymentProvider",
    "PaymentSettled",
    "PaymentUpdate",
    "Portal",
    "PortalError",
    "ProviderError",
    "RefundResult",
    "SendResult",
    "SharedBucket",
    "ShortLink",
    "Shortener",
    "StandIn",
    "SubmitProgress",
    "TemplateChannel",
    "TemplateRemoval",
    "TemplateReview",
    "TemplateSubmission",
    "TemporaryProviderError",
    "Unauthenticated",
    "VendorConnection",
    "WebhookChannel",
    "WebhookHandshake",
    "WebhookRequest",
    "hookimpl",
    "render_page",
    "template_param_numbers",
    "template_params",
)
