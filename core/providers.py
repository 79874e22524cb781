"""What plugins hand the core: provider protocols, payload Structs and the registries that hold them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar, runtime_checkable

import msgspec

if TYPE_CHECKING:
    from core.portal import Portal


class MenuLink(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the portal's menu; ``order`` sorts entries, lower first."""

    label: str
    href: str
    icon: str = ""
    order: int = 100


class ChannelCapabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What a channel can do. ``submit_progress``: its send_batch reports through SubmitProgress (below), so a
    crash fails only the messages that may have reached the vendor; without it a whole batch counts as gone."""

    flash: bool = False
    images: bool = False
    buttons: bool = False
    templates: bool = False
    seen: bool = False
    submit_progress: bool = False


class OutboundMessage(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One message a channel must submit: the EDR it belongs to and what to send (text already rendered)."""

    edr_id: int
    sender: str
    destination: str
    text: str
    flash: bool = False
    extra: dict[str, str] = {}


class SendResult(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The vendor's answer for one OutboundMessage.

    ``accepted`` with ``vendor_message_id`` (a multipart SMS: the first part's id, and every part's id in
    ``part_ids``); else ``error`` says why. ``unknown`` marks a submission whose outcome the channel cannot know
    (no response before the connection broke or timed out): the core fails it without charging and never
    re-sends it (DSP-3). Vendor throttling is the channel's to retry, never a result.

    ``connection`` is the id of the VendorConnection that took the message, for a vendor whose message ids are
    unique only per connection (an SMSC counting from 1 again after a restart); its reports then carry the same
    id. None (a vendor with globally unique ids) matches reports by channel and vendor id alone.
    """

    edr_id: int
    accepted: bool
    vendor_message_id: str = ""
    part_ids: tuple[str, ...] = ()
    error: str = ""
    unknown: bool = False
    connection: int | None = None


class DeliveryReport(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A vendor's report on a message it accepted, matched to the EDR by ``vendor_message_id``.

    ``state`` is one of DELIVERY_STATES; ``vendor_status`` and ``error_code`` keep the vendor's raw words.
    ``connection``, the id of the VendorConnection the report arrived on, limits the match to messages that
    connection took (see SendResult); without it any message of the channel with that vendor id matches. When
    several match, the newest submission gets the report.
    """

    vendor_message_id: str
    state: str
    vendor_status: str = ""
    error_code: str = ""
    done_at: datetime | None = None
    connection: int | None = None


# Vendor states → the EDR status they lead to; "" means not final (the EDR stays SENT).
DELIVERY_STATES: dict[str, str] = {
    "delivered": "DELIVERED",
    "seen": "SEEN",
    "undelivered": "UNDELIVERED",
    "expired": "UNDELIVERED",
    "deleted": "UNDELIVERED",
    "rejected": "UNDELIVERED",
    "enroute": "",
    "accepted": "",
    "unknown": "",
}


class InboundMessage(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A message a subscriber sent to one of our numbers (MO)."""

    channel: str
    source: str
    destination: str
    text: str
    vendor_message_id: str = ""
    received_at: datetime | None = None


class VendorConnection(msgspec.Struct, frozen=True, kw_only=True):
    """One vendor connection the owner configured in the Admin Panel; ``settings`` decode to the channel's type."""

    id: int
    channel: str
    name: str
    settings: dict[str, Any]


class SubmitProgress(Protocol):
    """What a channel tells the core while it submits a batch, so that a killed worker loses little (DSP-3)."""

    async def leaving(self, edr_ids: Sequence[int]) -> None:
        """Call before the first byte of these messages is written; returns once that is durably recorded."""
        ...

    def answered(self, result: SendResult) -> None:
        """One message's outcome as soon as it is known; the core records these while the batch goes on."""
        ...


@runtime_checkable
class ChannelProvider(Protocol):
    """A way to deliver messages (SMPP, Viber, WhatsApp…). ``name`` is stored in database columns.

    ``settings_type`` decodes a VendorConnection's settings. A channel whose vendor calls back over HTTP is also a
    WebhookChannel; one that sends pre-approved templates (``capabilities.templates``) is also a TemplateChannel.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[ChannelCapabilities]

    # Read-only, so that a provider may declare its own Struct subclass (a settable member would be invariant).
    @property
    def settings_type(self) -> type[msgspec.Struct]: ...

    def segments(self, text: str) -> int:
        """How many billable units ``text`` takes on this channel."""
        ...

    async def start(self, portal: Portal) -> None:
        """Open vendor connections (``await portal.vendor_connections(name)``) in a worker process.

        Reports go back through ``portal.record_deliveries`` and ``portal.record_inbound``, in batches.
        """
        ...

    async def stop(self) -> None:
        """Close them."""
        ...

    async def send_batch(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None
    ) -> Sequence[SendResult]:
        """Submit a batch and return one result per message, in the same order; report to ``progress`` on the
        way when the channel's capabilities say ``submit_progress``."""
        ...


class WebhookRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A vendor's HTTP call to ``/hooks/<plugin>/…`` as the core hands it over: header names in lower case and
    the body as received, byte for byte, since signatures are computed over the raw bytes."""

    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = {}


class ChannelCallback(msgspec.Struct, frozen=True, kw_only=True):
    """What one verified webhook call of a channel's vendor carried; the core records every list (``templates``:
    the vendor's verdicts on templates submitted through that connection)."""

    reports: tuple[DeliveryReport, ...] = ()
    inbound: tuple[InboundMessage, ...] = ()
    templates: tuple[TemplateReview, ...] = ()


@runtime_checkable
class WebhookChannel(Protocol):
    """A channel whose vendor reports statuses and inbound messages by HTTP callback (Viber, WhatsApp)."""

    def parse_callback(self, connection: VendorConnection, request: WebhookRequest) -> ChannelCallback:
        """Verify the call with the connection's secret (raise Unauthenticated when it fails) and parse it."""
        ...


@runtime_checkable
class WebhookHandshake(Protocol):
    """A WebhookChannel whose vendor first proves the webhook address with a GET (WhatsApp's hub.challenge)."""

    def answer_handshake(self, connection: VendorConnection, request: WebhookRequest) -> str:
        """The body to answer the GET with; raise Unauthenticated when its token is not the connection's."""
        ...


class TemplateSubmission(msgspec.Struct, frozen=True, kw_only=True):
    """A message template sent to the vendor for approval (WhatsApp: name, language, category, components)."""

    name: str
    language: str
    category: str
    components: list[dict[str, Any]]


class TemplateReview(msgspec.Struct, frozen=True, kw_only=True):
    """The vendor's verdict on a submitted template; ``reason`` says why it was rejected. A webhook's verdict
    names the template (``name``, ``language``) too: it may overtake the answer that tells its id."""

    vendor_template_id: str
    status: Literal["pending", "approved", "rejected"]
    reason: str = ""
    name: str = ""
    language: str = ""


_TEMPLATE_PARAM = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def template_params(body: str, text: str) -> list[str] | None:
    """The parameters {{1}}, {{2}}… that turn a vendor template's ``body`` into ``text`` (its body with each
    parameter filled in, per recipient when it holds a contact variable), in their order; None: it does not fit."""
    pieces = _TEMPLATE_PARAM.split(body)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<p{p}_{i}>.*?)" for i, p in enumerate(pieces))
    match = re.fullmatch(pattern, text, re.DOTALL)
    if match is None:
        return None
    by_number: dict[int, str] = {}
    for name, value in match.groupdict().items():
        by_number.setdefault(int(name[1:].split("_")[0]), value)
    return [by_number[n] for n in sorted(by_number)]


def template_param_numbers(body: str) -> list[int]:
    """The distinct parameter numbers of a template body, in increasing order."""
    return sorted({int(n) for n in _TEMPLATE_PARAM.findall(body)})


@runtime_checkable
class TemplateChannel(Protocol):
    """A channel that sends only templates its vendor approved (``capabilities.templates``)."""

    async def submit_template(self, connection: VendorConnection, template: TemplateSubmission) -> TemplateReview:
        """Send the template for approval; usually answers "pending"."""
        ...

    async def review(self, connection: VendorConnection, vendor_template_id: str) -> TemplateReview:
        """The template's current verdict."""
        ...


@runtime_checkable
class TemplateRemoval(Protocol):
    """A TemplateChannel whose vendor deletes the templates it holds (WhatsApp); the core asks it before it deletes
    its own record of one."""

    async def delete_template(self, connection: VendorConnection, name: str, vendor_template_id: str) -> None:
        """Delete the template of this name and vendor id (one language) from the vendor's account; return quietly
        when the vendor no longer has it. Raise ProviderError when the vendor refuses or cannot be reached."""
        ...


@runtime_checkable
class StandIn(Protocol):
    """A local server that plays a vendor (an SMSC, an HTTP API) for the demo and the tests (CHN-4)."""

    channel: ClassVar[str]

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0 = any free port); the port it listens on."""
        ...

    async def stop(self) -> None: ...

    def connection_settings(self) -> dict[str, Any]:
        """What a VendorConnection to this stand-in holds (host, port, credentials)."""
        ...

    async def inject_mo(self, source: str, destination: str, text: str) -> None:
        """Play a subscriber: send an inbound message to the portal as the vendor would."""
        ...


class PaymentAccount(msgspec.Struct, frozen=True, kw_only=True):
    """One account with a payment system (its keys and webhook secret), set by the owner or a reseller for the
    partners below it; ``settings`` decode to the provider's ``settings_type``."""

    id: int
    provider: str
    name: str
    settings: dict[str, Any]


class CheckoutRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A top-up to collect (BIL-9): the core's payment row, the amount in micro-units, where the payer returns."""

    payment_id: int
    partner_id: int
    amount_micros: int
    currency: str
    description: str
    success_url: str
    cancel_url: str


class Checkout(msgspec.Struct, frozen=True, kw_only=True):
    """The provider's answer: its id for the payment and the page the payer is redirected to."""

    vendor_payment_id: str
    redirect_url: str


class PaymentUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """A verified provider event about one payment. The core credits a ``succeeded`` payment once (matched by
    ``payment_id``, the id given in CheckoutRequest, else by ``vendor_payment_id``) and emits PaymentSettled."""

    vendor_payment_id: str
    status: Literal["succeeded", "canceled", "failed", "refunded"]
    amount_micros: int
    currency: str
    payment_id: int | None = None
    vendor_event_id: str = ""


class RefundResult(msgspec.Struct, frozen=True, kw_only=True):
    """The provider's answer to a refund; a refund that is not yet final arrives later as a PaymentUpdate."""

    vendor_refund_id: str
    amount_micros: int
    final: bool


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment system a partner can top up its balance with (a sandbox, a Stripe-like API)."""

    name: ClassVar[str]
    label: ClassVar[str]

    @property
    def settings_type(self) -> type[msgspec.Struct]: ...

    async def create_checkout(self, account: PaymentAccount, request: CheckoutRequest) -> Checkout:
        """Open a payment (checkout session or intent) with the provider; idempotent per ``payment_id``."""
        ...

    def parse_webhook(self, account: PaymentAccount, request: WebhookRequest) -> PaymentUpdate | None:
        """Verify the call's signature with the account's secret (raise Unauthenticated when it fails) and parse
        it; None for an event that concerns no payment state."""
        ...

    async def refund(self, account: PaymentAccount, vendor_payment_id: str, amount_micros: int) -> RefundResult:
        """Give back all or part of a settled payment."""
        ...


class LinkRecipient(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Whom one short code is for: the message (EDR) it goes out in, so that a click names the recipient."""

    partner_id: int
    campaign_id: int | None = None
    edr_id: int | None = None
    destination: str = ""


class ShortLink(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A short code and the full short URL (``https://<short domain>/<code>``) that replaces the long one."""

    code: str
    short_url: str


class LinkTarget(msgspec.Struct, frozen=True, kw_only=True):
    """What a short code on a domain leads to, and whose it is (for LinkClicked)."""

    link_id: int
    url: str
    recipient: LinkRecipient
    domain: str = ""
    code: str = ""  # named in click callbacks


class Click(msgspec.Struct, frozen=True, kw_only=True):
    """One visit of a short link (URL-2); ``os`` and ``browser`` come from the user agent. ``key`` names the click
    where it was queued (its stream entry): a shortener stores a keyed click once, however often it is handed it."""

    clicked_at: datetime
    user_agent: str = ""
    os: str = ""
    browser: str = ""
    device: str = ""
    key: str = ""


class PartnerScope(msgspec.Struct, frozen=True, kw_only=True):
    """The partners whose links a statistic counts, without listing a large subtree: the partners ``ids`` (a
    company, one client, a small subtree), or with ``subtree`` every partner whose ``path`` in the portal's
    ``partner`` table starts with it (a reseller's or the owner's subtree; ids are then empty)."""

    ids: tuple[int, ...] = ()
    subtree: str = ""


class ClickStats(msgspec.Struct, kw_only=True):
    """Clicks of a partner's short links over a period (URL-3); each list is (name, clicks), most clicked first."""

    total: int = 0
    unique_recipients: int = 0
    by_os: list[tuple[str, int]] = []
    by_browser: list[tuple[str, int]] = []
    by_day: list[tuple[str, int]] = []  # ("YYYY-MM-DD" in the asked time zone, clicks), oldest first


class LinkGroup(msgspec.Struct, kw_only=True):
    """A partner's links of one campaign on one domain, for the shortener page's list."""

    domain: str
    campaign_id: int | None
    links: int
    archived: bool


@runtime_checkable
class Shortener(Protocol):
    """Turns long URLs into short links per recipient, resolves codes and records their clicks (URL-1…3)."""

    name: ClassVar[str]
    label: ClassVar[str]

    @property
    def settings_type(self) -> type[msgspec.Struct]: ...

    def preview(self, domain: str) -> str:
        """A short link on ``domain`` as long as the real ones (``<domain>/<code>``), for segment estimates."""
        ...

    async def shorten(self, domain: str, url: str, recipients: Sequence[LinkRecipient]) -> Sequence[ShortLink]:
        """One short link on ``domain`` per recipient, in the same order; called inside the expansion's
        transaction, so links of a chunk that rolls back vanish with it."""
        ...

    async def resolve(self, domain: str, code: str) -> LinkTarget | None:
        """Where ``code`` leads; None for an unknown or archived code (the redirect answers 404)."""
        ...

    async def record_click(self, target: LinkTarget, click: Click) -> None:
        """Store one click; the core then emits LinkClicked."""
        ...

    async def record_clicks(self, clicks: Sequence[tuple[LinkTarget, Click]]) -> None:
        """Store many clicks at once (the click worker's batches), each keyed click once: two workers may hand over
        the same entries when one claims those another is slow to acknowledge. The core then emits LinkClicked."""
        ...

    async def statistics(
        self,
        partners: PartnerScope,
        *,
        domain: str | None = None,
        campaign_id: int | None = None,
        since: datetime | None = None,
        zone: str = "UTC",
    ) -> ClickStats:
        """Clicks on the links of these partners (a company, or a reseller's subtree), of one domain or campaign
        when given, since ``since`` (None: all); ``by_day`` counts the days of the IANA time zone ``zone``."""
        ...

    async def link_groups(self, partners: PartnerScope) -> Sequence[LinkGroup]:
        """The links of these partners grouped by domain and campaign, newest campaign first."""
        ...


def active_shortener(shorteners: Registry[Shortener]) -> Shortener | None:
    """The shortener campaigns use: a plugin's own when one is installed, else the built-in ``local`` one."""
    others = [s for s in shorteners if s.name != "local"]
    return others[0] if others else shorteners.get("local")


class _Named(Protocol):
    name: ClassVar[str]


P = TypeVar("P", bound=_Named)


class Registry(Generic[P]):
    """Providers of one kind keyed by name; registering a name twice is an error, not a silent override.

    ``protocol`` is P's runtime-checkable Protocol, for plugins that register without a type checker.
    """

    def __init__(self, kind: str, protocol: type) -> None:
        self.kind = kind
        self._protocol = protocol
        self._items: dict[str, P] = {}

    def register(self, provider: P) -> None:
        if not isinstance(provider, self._protocol):
            raise TypeError(f"{provider!r} is not a {self.kind} provider")
        name = provider.name
        if name in self._items:
            raise ValueError(f"{self.kind} provider {name!r} is registered twice")
        self._items[name] = provider

    def get(self, name: str) -> P | None:
        return self._items.get(name)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __iter__(self) -> Iterator[P]:
        return iter(self._items[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
