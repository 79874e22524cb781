"""Who is asking: the Actor from a session cookie (pages) or a bearer token (REST API), and role guards."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from core.accounts import sessions
from core.accounts.services import actor_from_token, load_actor
from core.errors import NotFound, Unauthenticated
from core.portal import Portal
from core.tenancy.resolver import PortalContext
from core.tenancy.schemas import Actor

_ACTOR = "actor"


def is_api(connection: ASGIConnection) -> bool:
    return connection.url.path.startswith("/api/")


def request_portal(connection: ASGIConnection) -> PortalContext:
    return connection.scope["state"]["portal"]


async def current_actor(request: Request) -> Actor | None:
    """The signed-in Actor of this request or None; computed once per request."""
    state = request.scope["state"]
    if _ACTOR in state:
        return state[_ACTOR]
    portal: Portal = request.app.state.portal
    site = request_portal(request)
    actor: Actor | None = None
    if is_api(request):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            actor = await actor_from_token(portal.settings, token.strip())
            if actor.portal_id != site.id:
                raise Unauthenticated("The token was issued on another portal")
    else:
        token = request.cookies.get(sessions.COOKIE_NAME)
        data = await sessions.load(portal.redis, token) if token else None
        if data is not None and data.portal_id == site.id:
            actor = await load_actor(data.user_id, site.id)
    state[_ACTOR] = actor
    return actor


async def provide_actor(request: Request) -> Actor:
    """Dependency for every signed-in route: 401 for the API, a redirect to sign-in for pages."""
    actor = await current_actor(request)
    if actor is None:
        raise Unauthenticated("Sign in first" if not is_api(request) else "A valid bearer token is required")
    return actor


async def manager_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Admin Panel routes exist only for owner and reseller users; others get the 404 of a missing page."""
    actor = await current_actor(connection)  # type: ignore[arg-type]
    if actor is None:
        raise Unauthenticated("Sign in first")
    if not actor.is_partner_manager:
        raise NotFound("Page")
