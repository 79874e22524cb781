"""Callback URLs of API keys: http(s) only, and never an address inside the installation's network (SSRF)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import InvalidInput

# Cloud metadata services answer on these; link-local covers 169.254.169.254, the others are named explicitly.
METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}


def refused_address(address: str) -> bool:
    """Whether a callback may not go to this IP: loopback, private, link-local, multicast, reserved or metadata."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip in METADATA
    )


async def check_callback_url(url: str, *, allow_private: bool, field: str = "callback_url") -> None:
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
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"The callback URL's host {parts.hostname!r} does not resolve", field=field) from exc
    for *_, sockaddr in found:
        if refused_address(str(sockaddr[0])):
            raise InvalidInput(
                f"The callback URL's host {parts.hostname!r} resolves to a loopback, private, link-local or"
                " metadata address, which callbacks may not reach",
                field=field,
            )
