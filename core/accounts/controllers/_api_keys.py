"""API Connections > API keys: the page and the REST routes (the latter only with a sign-in token)."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.response import Redirect

from core.accounts import api_keys
from core.accounts.api_keys import (
    PERIOD_LABELS,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyView,
    CallbackSecret,
    CallbackUrlIn,
)
from core.accounts.guards import admin_guard, sign_in_token_guard
from core.actor import Actor
from core.errors import PortalError
from core.portal import Portal
from core.web.forms import parse_form
from core.web.params import PathId
from core.web.shell import client_ip, page


def _allow_private(request: Request) -> bool:
    """The owner's setting that lets callback URLs reach internal addresses (off in production)."""
    portal: Portal = request.app.state.portal
    return portal.settings.callbacks_allow_private


class ApiKeyPages(Controller):
    path = "/api-keys"
    guards = [admin_guard]
    include_in_schema = False

    async def _list(self, request: Request, actor: Actor, *, status_code: int = 200, **context: object) -> Response:
        portal: Portal = request.app.state.portal
        return await page(
            request,
            actor,
            "accounts/api_keys.html",
            {
                "keys": await api_keys.list_keys(actor, portal.redis),
                "periods": PERIOD_LABELS,
                **context,
            },
            status_code=status_code,
        )

    @get("/")
    async def keys(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._list(request, actor)

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            created = await api_keys.create_key(
                actor,
                await parse_form(request, ApiKeyCreate),
                allow_private=_allow_private(request),
                ip=client_ip(request),
            )
        except PortalError as exc:
            form = await request.form()
            return await self._list(
                request, actor, error=exc.detail, values=dict(form.items()), status_code=exc.status_code
            )
        return await self._list(request, actor, created=created)

    @post("/{key_id:int}/refresh")
    async def refresh(self, request: Request, actor: NamedDependency[Actor], key_id: PathId) -> Response:
        await api_keys.refresh_key(actor, key_id, ip=client_ip(request))
        return Redirect("/api-keys?done=refreshed")

    @post("/{key_id:int}/delete")
    async def remove(self, request: Request, actor: NamedDependency[Actor], key_id: PathId) -> Response:
        await api_keys.remove_key(actor, key_id, ip=client_ip(request))
        return Redirect("/api-keys?done=removed")


class ApiKeysApi(Controller):
    """API keys through the REST API, with the short-lived token of POST /api/auth/login."""

    path = "/api/keys"
    guards = [sign_in_token_guard, admin_guard]
    tags = ["API keys"]

    @get("/")
    async def list_keys(self, request: Request, actor: NamedDependency[Actor]) -> list[ApiKeyView]:
        portal: Portal = request.app.state.portal
        return await api_keys.list_keys(actor, portal.redis)

    @post("/", status_code=201)
    async def create(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyCreated:
        return await api_keys.create_key(actor, data, allow_private=_allow_private(request), ip=client_ip(request))

    @post("/{key_id:int}/refresh", status_code=200)
    async def refresh(self, request: Request, actor: NamedDependency[Actor], key_id: PathId) -> ApiKeyView:
        return await api_keys.refresh_key(actor, key_id, ip=client_ip(request))

    @delete("/{key_id:int}", status_code=204)
    async def remove(self, request: Request, actor: NamedDependency[Actor], key_id: PathId) -> None:
        await api_keys.remove_key(actor, key_id, ip=client_ip(request))

    @put("/{key_id:int}/callback")
    async def set_callback(
        self, request: Request, actor: NamedDependency[Actor], key_id: PathId, data: JSONBody[CallbackUrlIn]
    ) -> ApiKeyView:
        """Set (or clear, with an empty string) where the key's delivery callbacks go."""
        return await api_keys.set_callback_url(
            actor, key_id, data, allow_private=_allow_private(request), ip=client_ip(request)
        )

    @post("/{key_id:int}/callback-secret", status_code=200)
    async def rotate_secret(self, request: Request, actor: NamedDependency[Actor], key_id: PathId) -> CallbackSecret:
        """A new callback secret, shown only in this answer; callbacks are signed with it from now on."""
        return await api_keys.rotate_callback_secret(actor, key_id, ip=client_ip(request))
