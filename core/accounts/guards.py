"""Who is asking: the Actor from a session cookie (pages) or a bearer token (REST API), and role guards."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from core.accounts import sessions
from core.accounts.api_keys import KEY_PREFIX, key_owner, mark_used
from core.accounts.services import actor_from_token, load_actor
from core.actor import Actor
from core.errors import Forbidden, Unauthenticated
from core.portal import Portal
from core.tenancy.resolver import PortalContext
from core.tenancy.scope import require_manager
from core.web.i18n import N_

_ACTOR = "actor"
_VIA = "authenticated_by"
_KEY_ID = "api_key_id"


def is_api(connection: ASGIConnection) -> bool:
    return connection.url.path.startswith("/api/")


def request_portal(connection: ASGIConnection) -> PortalContext:
    return connection.scope["state"]["portal"]


async def current_actor(request: ASGIConnection) -> Actor | None:
    """The signed-in Actor of this request or None; computed once per request."""
    state = request.scope["state"]
    if _ACTOR in state:
        return state[_ACTOR]
    portal: Portal = request.app.state.portal
    site = request_portal(request)
    actor: Actor | None = None
    if is_api(request):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token.startswith(KEY_PREFIX):
            key_id, owner = await key_owner(token)
            actor = await load_actor(owner, site.id)
            if actor is None:
                raise Unauthenticated("This API key does not work here: wrong portal, or its company is blocked")
            await mark_used(portal.redis, key_id)
            state[_VIA] = "api_key"
            state[_KEY_ID] = key_id
        elif scheme.lower() == "bearer" and token:
            actor = await actor_from_token(portal.settings, token)
            if actor.portal_id != site.id:
                raise Unauthenticated("The token was issued on another portal")
            state[_VIA] = "token"
    else:
        cookie = request.cookies.get(sessions.COOKIE_NAME)
        data = await sessions.load(portal.redis, cookie) if cookie else None
        if data is not None and data.portal_id == site.id:
            actor = await load_actor(data.user_id, site.id)
    state[_ACTOR] = actor
    return actor


async def api_key_of(connection: ASGIConnection) -> int | None:
    """The id of the API key this request signed in with; None for a session or a sign-in token."""
    await current_actor(connection)
    return connection.scope["state"].get(_KEY_ID)


async def provide_actor(request: Request) -> Actor:
    """Dependency for every signed-in route: 401 for the API, a redirect to sign-in for pages."""
    actor = await current_actor(request)
    if actor is None:
        raise Unauthenticated("Sign in first" if not is_api(request) else "A valid bearer token is required")
    return actor


async def sign_in_token_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Routes that manage credentials take the short-lived sign-in token, never an API key (ACC-6)."""
    if await current_actor(connection) is None:
        raise Unauthenticated("A valid bearer token is required")
    if connection.scope["state"].get(_VIA) != "token":
        raise Unauthenticated("Use the token from POST /api/auth/login, not an API key, to manage API keys")


async def admin_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """ACC-7: operators do not reach finance, API keys or deletions."""
    actor = await current_actor(connection)
    if actor is None:
        raise Unauthenticated("Sign in first")
    if not actor.is_admin:
        raise Forbidden(N_("Operators cannot use this page; ask an admin of your company"))


async def manager_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Admin Panel routes exist only for owner and reseller users; others get the 404 of a missing page."""
    actor = await current_actor(connection)
    if actor is None:
        raise Unauthenticated("Sign in first")
    require_manager(actor)
