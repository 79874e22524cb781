"""Callback URLs of API keys: http(s) only, and never an address inside the installation's network (SSRF).

Checked when saved and again when called. The call resolves the host once, checks every address and connects to
a checked one (``PinnedBackend``, the network layer of the callbacks' HTTP client): a DNS answer that changes
between the check and the connection (rebinding) cannot slip an internal address in. The URL's name still goes
in the Host header and in TLS (SNI and certificate verification), since only the socket's address is pinned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpcore

from core.errors import InvalidInput

# Cloud metadata services answer on these; link-local covers 169.254.169.254, the others are named explicitly.
METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}
RESOLVE_TIMEOUT_S = 10.0

# (host, port) → its IP addresses, in the order to try them. DNS is the one part of a call outside the system, so
# tests inject their own (a rebinding answer); everything else is the real client.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system's resolver (an IP literal answers itself)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


def refused_address(address: str) -> bool:
    """Whether a callback may not go to this IP: anything not globally reachable (loopback, private, shared 100.64/10,
    link-local, reserved, …), multicast or metadata, also when an IPv6 address carries it (mapped, 6to4, Teredo)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one is where the packet really goes: 6to4 counts as global to Python.
        carried = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if carried is not None:
            ip = carried
    return not ip.is_global or ip.is_multicast or ip in METADATA


async def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = system_resolver, field: str = "callback_url"
) -> list[str]:
    """Resolve ``host`` once and check every address it has; the addresses, all safe to connect to.

    Raises:
        InvalidInput: naming ``field``: the host does not resolve, or one of its addresses is refused (unless allowed).
    """
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            addresses = await resolver(host, port)
    except (OSError, ValueError, TimeoutError) as exc:
        raise InvalidInput(f"The callback URL's host {host!r} does not resolve", field=field) from exc
    if not addresses:
        raise InvalidInput(f"The callback URL's host {host!r} does not resolve", field=field)
    if not allow_private and any(refused_address(a) for a in addresses):
        raise InvalidInput(
            f"The callback URL's host {host!r} resolves to a loopback, private, link-local or"
            " metadata address, which callbacks may not reach",
            field=field,
        )
    return addresses


async def check_callback_url(
    url: str, *, allow_private: bool, field: str = "callback_url", resolver: Resolver = system_resolver
) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a refused address (unless allowed).

    Raises:
        InvalidInput: naming ``field`` and the reason.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("The callback URL must start with http:// or https:// and name a host", field=field)
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidInput("The callback URL's port is not a number from 0 to 65535", field=field) from exc
    await checked_addresses(parts.hostname, port, allow_private=False, resolver=resolver, field=field)


class RefusedAddress(httpcore.ConnectError):
    """The host resolved to an address callbacks may not reach, or not at all: no connection was attempted."""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend that resolves each new connection's host once, through ``resolver``, checks every
    address (unless ``allow_private``) and connects to those addresses only, never to a name."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 — httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await checked_addresses(host, port, allow_private=self.allow_private, resolver=self.resolver)
        except InvalidInput as exc:
            raise RefusedAddress(exc.detail) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the host's next address may answer
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 — httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress("Callbacks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
