"""Selects the portal of every request from its Host header; a malformed host is a 400, an unknown one a 404."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Receive, Scope, Send

from core.errors import NotFound
from core.tenancy.resolver import parse_host, resolver
from core.tenancy.short_domains import short_host_cache

# Paths that work before any portal exists or for any host: health probes, metrics, shared static files, and
# payment systems' webhooks (one endpoint per payment account, whichever portal host it was given).
HOSTLESS_PREFIXES = ("/healthz", "/metrics", "/static/", "/theme/", "/payments/")
# Vendor webhooks belong to no portal: their host is never resolved (core/dispatch/webhooks.py).
NO_PORTAL_PREFIX = "/hooks/"
# A short domain is no portal either: on its host only the short-link route (core/shortlinks/redirect.py, a
# catch-all of one path segment that static routes win over) and the hostless paths answer.
SHORT_LINK_PATH = "/{code:str}"


class PortalMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope.setdefault("state", {})
        values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"host"]
        host = parse_host(values[0]) if len(values) == 1 else None
        if values and host is None:
            # Two Host fields (RFC 9112 §3.2) or one that is not host[:port]. Answered here, as plain text: the
            # error pages read request.url, which such a host can make unparsable.
            await ASGIResponse(body="Invalid Host header\n", status_code=400, media_type="text/plain")(
                scope, receive, send
            )
            return
        if host and await short_host_cache.contains(host):
            handler = scope.get("route_handler")
            if not (handler and SHORT_LINK_PATH in handler.paths) and not scope["path"].startswith(HOSTLESS_PREFIXES):
                raise NotFound("Page")
            state["portal"] = None
            await next_app(scope, receive, send)
            return
        if scope["path"].startswith(NO_PORTAL_PREFIX):
            state["portal"] = None
            await next_app(scope, receive, send)
            return
        state["portal"] = await resolver.resolve(host) if host else None
        if state["portal"] is None and not scope["path"].startswith(HOSTLESS_PREFIXES):
            raise NotFound("Portal")
        await next_app(scope, receive, send)
