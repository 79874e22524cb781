"""What plugins hand the core: provider protocols, payload Structs and the registries that hold them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

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
    """A way to deliver messages (SMPP, Viber, WhatsApp…). ``name`` is stored in database columns."""

    name: ClassVar[str]
    label: ClassVar[str]
    settings_type: ClassVar[type[msgspec.Struct]]
    capabilities: ClassVar[ChannelCapabilities]

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


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment system a partner can top up its balance with."""

    name: ClassVar[str]
    label: ClassVar[str]
    settings_type: ClassVar[type[msgspec.Struct]]


@runtime_checkable
class Shortener(Protocol):
    """Turns long URLs into short links and records their clicks."""

    name: ClassVar[str]
    label: ClassVar[str]
    settings_type: ClassVar[type[msgspec.Struct]]


P = TypeVar("P")


class Registry(Generic[P]):
    """Providers of one kind keyed by name; registering a name twice is an error, not a silent override."""

    def __init__(self, kind: str, protocol: type[P]) -> None:
        self.kind = kind
        self._protocol = protocol
        self._items: dict[str, P] = {}

    def register(self, provider: P) -> None:
        if not isinstance(provider, self._protocol):  # type: ignore[arg-type]
            raise TypeError(f"{provider!r} is not a {self.kind} provider")
        name = provider.name  # type: ignore[attr-defined]
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
