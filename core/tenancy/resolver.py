"""Host header → portal (TEN-2), cached briefly in each process so that a request costs no query."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from core.db import json_value
from core.tenancy.tables import PortalHost, PortalRecord

CACHE_SECONDS = 5.0


class PortalContext(msgspec.Struct, frozen=True, kw_only=True):
    """The portal a request arrived on, as pages and services need it."""

    id: int
    slug: str
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


def normalise_host(raw: str) -> str:
    """'Demo.Localhost:8000' → 'demo.localhost'; IPv6 literals keep their brackets."""
    host = raw.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


class PortalResolver:
    """Finds the portal of a host; when exactly one portal exists it serves every host (local runs)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, PortalContext | None]] = {}

    def clear(self) -> None:
        self._cache.clear()

    async def resolve(self, host: str) -> PortalContext | None:
        host = normalise_host(host)
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
        return PortalContext(
            id=row["id"],
            slug=row["slug"],
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
