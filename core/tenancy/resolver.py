"""Host header → portal (TEN-2), cached briefly in each process so that a request costs no query."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import msgspec

from core.db import json_value
from core.tenancy.tables import PortalHost, PortalRecord

if TYPE_CHECKING:
    from core.settings import Settings

CACHE_SECONDS = 5.0
# host[:port] and nothing else: a DNS name or IPv4 address (one trailing dot allowed), or a bracketed IPv6 literal.
_HOST = re.compile(
    r"(?P<name>[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?|\[[0-9a-f:.]{2,45}\])\.?(?::(?P<port>[0-9]{1,5}))?", re.ASCII
)


class PortalContext(msgspec.Struct, frozen=True, kw_only=True):
    """The portal a request arrived on, as pages and services need it."""

    id: int
    slug: str
    host: str  # the configured host name that absolute links to this portal use (see absolute_url)
    brand_name: str
    theme: str
    partner_id: int
    default_language: str
    languages: tuple[str, ...]
    self_registration: bool
    require_2fa: bool
    terms_url: str
    privacy_url: str
    consent_text: str
    help_email: str
    registration_fields: tuple[dict[str, Any], ...] = ()


def parse_host(raw: str) -> str | None:
    """A Host header's host name: 'Demo.Localhost:8000' → 'demo.localhost'; IPv6 literals keep their brackets.

    None for anything else — user-info ('a.test:@evil.example'), paths, spaces, an empty or out-of-range port —
    because a browser could read such a value as another host than the one that picked the portal.
    """
    match = _HOST.fullmatch(raw.strip().lower())
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) < 65536):
        return None
    return match["name"]


def absolute_url(settings: Settings, site: PortalContext, path: str) -> str:
    """``path`` on the portal's configured host with the public scheme and port of the settings.

    Every link that leaves the page (e-mails) is built here and never from the request, so that no Host or
    forwarded header can point a reset or confirmation link at another site.
    """
    default_port = 443 if settings.public_scheme == "https" else 80
    port = f":{settings.public_port}" if settings.public_port not in (0, default_port) else ""
    return f"{settings.public_scheme}://{site.host}{port}{path}"


class PortalResolver:
    """Finds the portal of a host; when exactly one portal exists it serves every host (local runs)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, PortalContext | None]] = {}

    def clear(self) -> None:
        self._cache.clear()

    def cached(self, raw_host: str) -> PortalContext | None:
        """The portal a Host header's value last resolved to, however old, without a query (None if never seen)."""
        host = parse_host(raw_host)
        hit = self._cache.get(host) if host else None
        return hit[1] if hit else None

    async def resolve_header(self, raw_host: str) -> PortalContext | None:
        """The portal of a Host header's value; None for a malformed one."""
        host = parse_host(raw_host)
        return await self.resolve(host) if host else None

    async def resolve(self, host: str) -> PortalContext | None:
        """The portal of ``host``, a name as parse_host returns it."""
        now = time.monotonic()
        hit = self._cache.get(host)
        if hit and hit[0] > now:
            return hit[1]
        context = await self._lookup(host)
        self._cache[host] = (now + CACHE_SECONDS, context)
        return context

    async def _lookup(self, host: str) -> PortalContext | None:
        match = await PortalHost.select(PortalHost.portal).where(PortalHost.host == host).first()
        if match is not None:
            row = await PortalRecord.select().where(PortalRecord.id == match["portal"]).first()
        else:
            rows = await PortalRecord.select().limit(2)
            row = rows[0] if len(rows) == 1 else None
        if row is None:
            return None
        if match is None:
            # The lone portal answers any host, but its links go to the first host it was given (a portal row
            # written by hand without one gets links without a host rather than links to the request's).
            first = (
                await PortalHost.select(PortalHost.host)
                .where(PortalHost.portal == row["id"])
                .order_by(PortalHost.id)
                .first()
            )
            host = first["host"] if first else ""
        return PortalContext(
            id=row["id"],
            slug=row["slug"],
            host=host,
            brand_name=row["brand_name"],
            theme=row["theme"],
            partner_id=row["partner"],
            default_language=row["default_language"],
            languages=tuple(json_value(row["languages"])),
            self_registration=row["self_registration"],
            require_2fa=row["require_2fa"],
            terms_url=row["terms_url"],
            privacy_url=row["privacy_url"],
            consent_text=row["consent_text"],
            help_email=row["help_email"],
            registration_fields=tuple(json_value(row["registration_fields"])),
        )


resolver = PortalResolver()
