"""What plugins hand the core: provider protocols, payload Structs and the registries that hold them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import msgspec


class MenuLink(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the portal's menu; ``order`` sorts entries, lower first."""

    label: str
    href: str
    icon: str = ""
    order: int = 100


class ChannelCapabilities(msgspec.Struct, frozen=True, kw_only=True):
    flash: bool = False
    images: bool = False
    buttons: bool = False
    templates: bool = False
    seen: bool = False


class OutboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message a channel must submit: the EDR it belongs to and what to send."""

    edr_id: int
    sender: str
    destination: str
    text: str
    flash: bool = False
    extra: dict[str, str] = {}


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    """The vendor's answer for one OutboundMessage: its id when accepted, else the error."""

    edr_id: int
    accepted: bool
    vendor_message_id: str = ""
    error: str = ""
    retry: bool = False


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

    async def start(self) -> None:
        """Open long-lived vendor connections."""
        ...

    async def stop(self) -> None:
        """Close them."""
        ...

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> Sequence[SendResult]:
        """Submit a batch and return one result per message, in the same order."""
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
