"""/api/send_sms (POST and GET, API-2 and API-4), the API methods help page (API-5) and a key's callbacks (API-3)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect

from core.accounts import api_keys
from core.accounts.api_keys import CallbackSecret, CallbackUrlIn
from core.accounts.guards import admin_guard, api_key_of, request_portal, sign_in_token_guard
from core.actor import Actor
from core.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from core.portal import Portal
from core.public_api import callbacks, checks, idempotency, mo_routes, services, throttle, transactions
from core.public_api.callbacks import CallbackView
from core.public_api.mo_routes import CallbackSettingsView, DefaultMoUrlIn, MoRouteIn, MoRouteUpdate, MoRouteView
from core.public_api.schemas import SendSmsIn, SendSmsOut
from core.senders.tables import Sender
from core.tenancy.resolver import absolute_url
from core.tenancy.scope import owned
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip, page

IDEMPOTENCY_HEADER = "Idempotency-Key"
DryRun = Annotated[
    bool, QueryParameter(name="dryRun", description="true: price and per-recipient outcome only, nothing is sent")
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=IDEMPOTENCY_HEADER,
        description="Retrying with the same key and body within 24 h returns the first answer and sends nothing",
        required=False,
    ),
]
_RESPONSES = (
    'The answer per distinct recipient: "<dnis>:<transaction id>" or "<dnis>:<error>". 400 names a missing or bad'
    " parameter, 401 a missing, wrong, expired or removed key, 402 an unpaid request (nothing is sent), 422 an"
    " Idempotency-Key reused with another body, 429 too many requests (see Retry-After)."
)

# The handlers return a Response (a 429 carries Retry-After), so the answers are declared here for the schema.
_SPECS = {
    200: ResponseSpec(SendSmsOut, description="One result per distinct recipient"),
    401: ResponseSpec(None, description="Missing, wrong, expired or removed API key"),
    402: ResponseSpec(None, description="The balance does not cover the accepted messages; nothing was sent"),
    422: ResponseSpec(None, description="The Idempotency-Key was used with another body"),
    429: ResponseSpec(None, description="Too many requests with this key; retry after Retry-After seconds"),
}


async def _answer(
    request: Request, actor: Actor, items: list[SendSmsIn], dry_run: bool, idempotency_key: str | None
) -> Response[Any]:
    portal: Portal = request.app.state.portal
    key_id = await api_key_of(request)
    if key_id is None:
        raise Unauthenticated("Send messages with an API key: Authorization: Bearer <API key>")
    wait = await throttle.take(portal.redis, key_id)
    if wait:
        detail = f"Too many requests with this API key: retry in {wait} s"
        return Response({"status_code": 429, "detail": detail}, status_code=429, headers={"Retry-After": str(wait)})
    checked = checks.check_request(items, dry_run=dry_run, known=portal.registries.channels)
    if idempotency_key is None:
        return Response(await services.send(portal, actor, key_id, checked))
    body = msgspec.json.encode([request.method, dry_run, items])
    async with idempotency.claim(portal.redis, key_id, idempotency_key, body) as claim:
        if claim.replay is not None:
            return Response(msgspec.json.decode(claim.replay, type=SendSmsOut), headers={"Idempotent-Replay": "true"})
        out = await services.send(portal, actor, key_id, checked)
        await claim.keep(msgspec.json.encode(out))
    return Response(out)


class SendSmsApi(Controller):
    path = "/api/send_sms"
    tags = ["Sending"]

    @post(
        "/",
        status_code=200,
        summary="Send a message to up to 700 recipients: a JSON object, or an array of them",
        description=_RESPONSES,
        responses=_SPECS,
    )
    async def send_post(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        data: JSONBody[SendSmsIn | list[SendSmsIn]],
        dry_run: DryRun = False,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        items = data if isinstance(data, list) else [data]
        return await _answer(request, actor, items, dry_run, idempotency_key)

    @get(
        "/",
        summary="Send a message with the parameters in the query string",
        description=_RESPONSES,
        responses=_SPECS,
    )
    async def send_get(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        channels: Annotated[
            str, QueryParameter(description='The channel, or a cascade in the order to try them: "viber,sms"')
        ] = "",
        sender: Annotated[str, QueryParameter(name="from", description="An enabled sender ID of the channel")] = "",
        to: Annotated[str, QueryParameter(description="Numbers in international format, comma-separated")] = "",
        message: FromQuery[str] = "",
        label: FromQuery[str] = "",
        fallback_ttl: Annotated[
            str,
            QueryParameter(
                name="fallbackTtl",
                description="Cascades: seconds each channel but the last has to deliver (1 to 259200, default 600)",
            ),
        ] = "",
        dry_run: DryRun = False,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        # The named parameters above document the query in the OpenAPI schema; every one is read from it here.
        params: dict[str, object] = {k: v for k, v in request.query_params.items() if k != "dryRun"}
        # ?to=…&to=… is a list of recipients as much as one comma-separated value.
        params["to"] = ",".join(request.query_params.getall("to", []))
        for name in ("templateParams", "templateButtonParams"):  # ?templateParams=…&templateParams=…: a list
            if len(values := request.query_params.getall(name, [])) > 1:
                params[name] = values
        try:
            item = msgspec.convert(params, SendSmsIn, strict=False)
        except msgspec.ValidationError as exc:
            raise checks.BadParameter(f"Bad parameter: {exc}") from None
        return await _answer(request, actor, [item], dry_run, idempotency_key)

    @get(
        "/{transaction_id:str}",
        summary="What became of one recipient's message: its outcome and every channel tried (cascades)",
        description="The outcome is the attempt that reached the recipient (DELIVERED or SEEN) when one did, else the"
        " latest attempt; nextChannels lists the channels a cascade still waits to try. 404 for an id that is not"
        " your company's.",
    )
    async def transaction(
        self,
        actor: NamedDependency[Actor],
        transaction_id: Annotated[str, PathParameter(max_length=36, description="A transaction id /api/send_sms gave")],
    ) -> transactions.TransactionView:
        return await transactions.get_transaction(actor, transaction_id)


class ApiMethodsPage(Controller):
    """API Connections > API methods: prerequisites, limits, parameters and samples with the portal's own host."""

    path = "/api-methods"
    guards = [admin_guard]
    include_in_schema = False

    @get("/")
    async def show(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        portal: Portal = request.app.state.portal
        url = absolute_url(portal.settings, request_portal(request), "/api/send_sms")
        return await page(
            request,
            actor,
            "public_api/api_methods.html",
            {
                "send_url": url,
                "host": url.split("://", 1)[1].split("/", 1)[0],
                "max_recipients": services.MAX_RECIPIENTS,
                "rate_per_s": int(throttle.RATE_PER_S),
                "burst": throttle.BURST,
            },
        )


def _allow_private(request: Request) -> bool:
    portal: Portal = request.app.state.portal
    return portal.settings.callbacks_allow_private


class KeyCallbackPages(Controller):
    """API keys > one key's callbacks: where they go, the secret that signs them, and what recent ones did."""

    path = "/api-keys/{key_id:int}/callbacks"
    guards = [admin_guard]
    include_in_schema = False

    async def _show(
        self, request: Request, actor: Actor, key_id: int, page_no: int, *, status_code: int = 200, **context: object
    ) -> Response:
        portal: Portal = request.app.state.portal
        key = await api_keys.get_key(actor, portal.redis, key_id)
        result = await callbacks.list_callbacks(actor, key_id, page=page_no, per_page=DEFAULT_PER_PAGE)
        return await page(
            request,
            actor,
            "public_api/callbacks.html",
            {"key": key, "result": result, "done": request.query_params.get("done", ""), **context},
            status_code=status_code,
        )

    @get("/")
    async def show(
        self, request: Request, actor: NamedDependency[Actor], key_id: PathId, page_no: PageNo = 1
    ) -> Response:
        return await self._show(request, actor, key_id, page_no)

    @post("/url")
    async def set_url(self, request: Request, actor: NamedDependency[Actor], key_id: PathId) -> Response:
        try:
            data = await parse_form(request, CallbackUrlIn)
            await api_keys.set_callback_url(
                actor, key_id, data, allow_private=_allow_private(request), ip=client_ip(request)
            )
        except InvalidInput as exc:
            form = await request.form()
            return await self._show(
                request, actor, key_id, 1, error=exc.detail, url_value=form.get("callback_url", ""), status_code=422
            )
        return Redirect(f"/api-keys/{key_id}/callbacks?done=url")

    @post("/secret")
    async def rotate_secret(self, request: Request, actor: NamedDependency[Actor], key_id: PathId) -> Response:
        rotated = await api_keys.rotate_callback_secret(actor, key_id, ip=client_ip(request))
        return await self._show(request, actor, key_id, 1, secret=rotated.callback_secret)


class KeyCallbacksApi(Controller):
    """One key's callback history through the REST API, with the short-lived token of POST /api/auth/login."""

    path = "/api/keys/{key_id:int}/callbacks"
    guards = [sign_in_token_guard, admin_guard]
    tags = ["API keys"]

    @get("/", summary="The key's delivery callbacks, newest first, with their attempts and outcomes")
    async def list_callbacks(
        self,
        actor: NamedDependency[Actor],
        key_id: PathId,
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[CallbackView]:
        return await callbacks.list_callbacks(actor, key_id, page=page, per_page=per_page)


class CallbackSettingsPages(Controller):
    """API Connections > Callback Settings: the default MO URL, a URL per sender ID, and the signing secret."""

    path = "/callback-settings"
    guards = [admin_guard]
    include_in_schema = False

    async def _show(self, request: Request, actor: Actor, *, status_code: int = 200, **context: object) -> Response:
        senders = await Sender.select(Sender.name).where(owned(Sender, actor)).order_by(Sender.name).distinct()
        return await page(
            request,
            actor,
            "public_api/callback_settings.html",
            {
                "settings": await mo_routes.get_settings(actor),
                "senders": [r["name"] for r in senders],
                "done": request.query_params.get("done", ""),
                **context,
            },
            status_code=status_code,
        )

    @get("/")
    async def show(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._show(request, actor)

    async def _change(self, request: Request, actor: Actor, done: str, change: Any) -> Response:
        try:
            await change()
        except (InvalidInput, Conflict, Forbidden) as exc:
            form = await request.form()
            return await self._show(
                request, actor, error=exc.detail, values=dict(form.items()), status_code=exc.status_code
            )
        return Redirect(f"/callback-settings?done={done}")

    @post("/default")
    async def set_default(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        async def change() -> None:
            data = await parse_form(request, DefaultMoUrlIn)
            await mo_routes.set_default_url(actor, data, allow_private=_allow_private(request), ip=client_ip(request))

        return await self._change(request, actor, "default", change)

    @post("/routes")
    async def add_route(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        async def change() -> None:
            data = await parse_form(request, MoRouteIn)
            await mo_routes.add_route(actor, data, allow_private=_allow_private(request), ip=client_ip(request))

        return await self._change(request, actor, "added", change)

    @post("/routes/{route_id:int}")
    async def update_route(self, request: Request, actor: NamedDependency[Actor], route_id: PathId) -> Response:
        async def change() -> None:
            data = await parse_form(request, MoRouteUpdate)
            await mo_routes.update_route(
                actor, route_id, data, allow_private=_allow_private(request), ip=client_ip(request)
            )

        return await self._change(request, actor, "saved", change)

    @post("/routes/{route_id:int}/delete")
    async def delete_route(self, request: Request, actor: NamedDependency[Actor], route_id: PathId) -> Response:
        await mo_routes.delete_route(actor, route_id, ip=client_ip(request))
        return Redirect("/callback-settings?done=deleted")

    @post("/secret")
    async def rotate_secret(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            rotated = await mo_routes.rotate_secret(actor, ip=client_ip(request))
        except Forbidden as exc:
            return await self._show(request, actor, error=exc.detail, status_code=exc.status_code)
        return await self._show(request, actor, secret=rotated.callback_secret)


class CallbackSettingsApi(Controller):
    """Callback Settings through the REST API (admins; a sign-in token or an API key)."""

    path = "/api/callback-settings"
    guards = [admin_guard]
    tags = ["Callback Settings"]

    @get("/", summary="Where MO messages are posted: the default URL and the routes per sender ID")
    async def get_settings(self, actor: NamedDependency[Actor]) -> CallbackSettingsView:
        return await mo_routes.get_settings(actor)

    @put("/", summary="Set (or clear, with an empty string) the default MO URL")
    async def set_default(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[DefaultMoUrlIn]
    ) -> CallbackSettingsView:
        return await mo_routes.set_default_url(
            actor, data, allow_private=_allow_private(request), ip=client_ip(request)
        )

    @post("/secret", status_code=200, summary="A new secret for MO callbacks, shown only in this answer")
    async def rotate_secret(self, request: Request, actor: NamedDependency[Actor]) -> CallbackSecret:
        return await mo_routes.rotate_secret(actor, ip=client_ip(request))

    @post("/routes", status_code=201, summary="Post the MO messages of one sender ID to a URL of its own")
    async def add_route(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[MoRouteIn]
    ) -> MoRouteView:
        return await mo_routes.add_route(actor, data, allow_private=_allow_private(request), ip=client_ip(request))

    @put("/routes/{route_id:int}", summary="Change the URL of a sender ID's route")
    async def update_route(
        self, request: Request, actor: NamedDependency[Actor], route_id: PathId, data: JSONBody[MoRouteUpdate]
    ) -> MoRouteView:
        return await mo_routes.update_route(
            actor, route_id, data, allow_private=_allow_private(request), ip=client_ip(request)
        )

    @delete("/routes/{route_id:int}", status_code=204, summary="Remove a route: its MO go to the default URL")
    async def delete_route(self, request: Request, actor: NamedDependency[Actor], route_id: PathId) -> None:
        await mo_routes.delete_route(actor, route_id, ip=client_ip(request))
