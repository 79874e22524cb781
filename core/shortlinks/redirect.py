"""Short-link redirects (URL-2): `GET <short domain>/<code>` answers 302 and queues the click.

A short domain is not a portal: the route is a catch-all of one path segment (static routes win over it), and
the portal middleware lets it through on short-domain hosts without resolving a portal. The active shortener
resolves the code (a memory cache in front of its store) and the click goes to a Redis stream, which the click
worker writes in bulk (core/shortlinks/clicks.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from core.errors import NotFound
from core.portal import Portal
from core.providers import active_shortener
from core.shortlinks.stream import ClickEntry, add_click
from core.tenancy.middleware import SHORT_LINK_PATH
from core.tenancy.resolver import parse_host
from core.tenancy.short_domains import short_host_cache
from core.web.i18n import N_
from core.web.templating import render

_NOT_FOUND = N_("This short link does not exist or is no longer active.")


# No CSRF cookie: a redirect shows no form, and signing a token per click is wasted work.
@get(SHORT_LINK_PATH, include_in_schema=False, opt={"exclude_from_csrf": True})
async def follow_short_link(request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
    portal: Portal = request.app.state.portal
    host = parse_host(request.headers.get("host", "")) or ""
    if not await short_host_cache.contains(host):
        raise NotFound("Page")  # a portal host: an unknown page like any other
    shortener = active_shortener(portal.registries.shorteners)
    target = await shortener.resolve(host, code) if shortener and code.isalnum() and len(code) <= 16 else None
    if target is None:
        return render(request, "error.html", {"status_code": 404, "detail": _NOT_FOUND}, status_code=404)
    entry = ClickEntry(target=target, clicked_at=datetime.now(UTC), user_agent=request.headers.get("user-agent", ""))
    await add_click(portal.redis, entry)
    return Response(
        b"",
        status_code=302,
        headers={"Location": target.url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


ROUTES = [follow_short_link]
