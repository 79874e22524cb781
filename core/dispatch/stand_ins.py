"""Vendor stand-ins for the demo (CHN-4): `portal run` in dev mode starts one for each local vendor connection."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import msgspec

from core.billing.tables import PaymentAccount
from core.dispatch.connections import enabled_connections
from core.portal import Portal
from core.providers import StandIn

log = logging.getLogger(__name__)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


async def start_local_stand_ins(portal: Portal) -> list[StandIn]:
    """Start the registered stand-in of each channel on the port of each enabled connection to this machine."""
    started: list[StandIn] = []
    for channel, stand_in_type in portal.registries.stand_ins.items():
        for connection in await enabled_connections(channel):
            host, port = _address(connection.settings)
            if host not in LOCAL_HOSTS or port is None:
                continue
            stand_in = stand_in_type()
            # A vendor whose webhook address is set once in its console, not sent with each message (Meta's),
            # calls this connection's.
            if getattr(stand_in, "webhook_url", None) == "":
                stand_in.webhook_url = portal.webhook_url(channel, connection.id)  # type: ignore[attr-defined]
            try:
                await stand_in.start(host, port)
            except OSError as exc:  # already running (`portal simulate`), or the port is taken
                log.warning("stand-in for %s on %s:%s not started: %s", channel, host, port, exc)
                continue
            log.info("stand-in for %s listening on %s:%s", channel, host, port)
            started.append(stand_in)
    return started + await _start_payment_stand_ins(portal)


async def _start_payment_stand_ins(portal: Portal) -> list[StandIn]:
    """The payment system stand-in (`portal simulate payments`) on the port of each payment account whose API
    address is this machine (the demo's)."""
    stand_in_type = portal.registries.stand_ins.get("payments")
    if stand_in_type is None:
        return []
    started: list[StandIn] = []
    accounts = await PaymentAccount.select(PaymentAccount.settings).where(PaymentAccount.enabled.eq(True))
    bases = {str(msgspec.json.decode(a["settings"] or "{}").get("api_base") or "") for a in accounts}
    for base in sorted(bases):
        address = urlsplit(base)
        if address.hostname not in LOCAL_HOSTS or not address.port:
            continue
        stand_in = stand_in_type()
        try:
            await stand_in.start(address.hostname, address.port)
        except OSError as exc:
            log.warning("payments stand-in on %s not started: %s", base, exc)
            continue
        log.info("payments stand-in listening on %s", base)
        started.append(stand_in)
    return started


def _address(settings: dict[str, Any]) -> tuple[str, int | None]:
    """Where a connection reaches its vendor: ``host`` and ``port`` settings (SMPP) or an ``api_url`` (HTTP)."""
    if "api_url" in settings:
        try:
            url = urlsplit(str(settings["api_url"]))
            return url.hostname or "", url.port or {"http": 80, "https": 443}.get(url.scheme)
        except ValueError:  # a port that is no number
            return "", None
    port = settings.get("port")
    return str(settings.get("host", "")), port if isinstance(port, int) else None
