"""Selects the portal of every request from its Host header; an unknown host ends in a plain 404."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from core.errors import NotFound
from core.tenancy.resolver import resolver

# Paths that work before any portal exists or for any host: health probes and shared static files.
HOSTLESS_PREFIXES = ("/healthz", "/static/", "/theme/")


class PortalMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        state["portal"] = await resolver.resolve(host) if host else None
        if state["portal"] is None and not scope["path"].startswith(HOSTLESS_PREFIXES):
            raise NotFound("Portal")
        await next_app(scope, receive, send)
