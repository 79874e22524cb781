"""The Admin Panel's inbox of requests (ADM-1, TEN-5): pages and REST API over the same service functions."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File, Redirect

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.errors import PortalError
from core.senders.controllers import download
from core.tenancy import requests as chain
from core.tenancy.schemas import REQUEST_STATUS_LABELS, RequestDecision, RequestView
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip, page


class RequestInboxPages(Controller):
    path = "/admin/requests"
    guards = [manager_guard]
    include_in_schema = False

    @get("/")
    async def inbox(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        kind: FromQuery[str] = "",
        status: FromQuery[str] = "open",
        mine: FromQuery[bool] = False,
        page_no: PageNo = 1,
    ) -> Response:
        result = await chain.list_inbox(actor, kind=kind, status=status, held_only=mine, page=page_no)
        return await page(
            request,
            actor,
            "admin/requests.html",
            {
                "result": result,
                "kind": kind,
                "status": status,
                "mine": mine,
                "kinds": chain.kinds(),
                "statuses": REQUEST_STATUS_LABELS,
            },
        )

    async def _detail(
        self, request: Request, actor: Actor, request_id: int, *, error: str = "", status_code: int = 200
    ) -> Response:
        view = await chain.get_request(actor, request_id)
        if view.partner_id == actor.partner_id:
            return Redirect(f"/senders/requests/{request_id}")
        return await page(
            request,
            actor,
            "admin/request.html",
            {
                "item": view,
                "status_label": chain.status_label(view.status),
                "can_decide": view.holder_id == actor.partner_id and view.status in ("new", "in_progress"),
                "error": error,
            },
            status_code=status_code,
        )

    @get("/{request_id:int}")
    async def detail(self, request: Request, actor: NamedDependency[Actor], request_id: PathId) -> Response:
        return await self._detail(request, actor, request_id)

    @get("/{request_id:int}/files/{index:int}")
    async def file(
        self, request: Request, actor: NamedDependency[Actor], request_id: PathId, index: FromPath[int]
    ) -> File:
        path, name = await chain.attachment(actor, request_id, index, request.app.state.portal.settings.var_dir)
        return download(path, name)

    @post("/{request_id:int}/decision")
    async def decide(self, request: Request, actor: NamedDependency[Actor], request_id: PathId) -> Response:
        try:
            decision = await parse_form(request, RequestDecision)
            await chain.decide(request.app.state.portal, actor, request_id, decision, ip=client_ip(request))
        except PortalError as exc:
            if exc.status_code == 404:
                raise
            return await self._detail(request, actor, request_id, error=exc.detail, status_code=exc.status_code)
        return Redirect(f"/admin/requests/{request_id}?saved={decision.action}")


class RequestInboxApi(Controller):
    """The inbox for owner and reseller users with a bearer token (ADM-2)."""

    path = "/api/admin/requests"
    guards = [manager_guard]
    tags = ["Admin"]

    @get("/", summary="Requests of the partners below the caller, newest first")
    async def inbox(
        self,
        actor: NamedDependency[Actor],
        kind: FromQuery[str] = "",
        status: FromQuery[str] = "",
        mine: FromQuery[bool] = False,
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[RequestView]:
        return await chain.list_inbox(actor, kind=kind, status=status, held_only=mine, page=page, per_page=per_page)

    @get("/{request_id:int}")
    async def get_request(self, actor: NamedDependency[Actor], request_id: PathId) -> RequestView:
        return await chain.get_request(actor, request_id)

    @post("/{request_id:int}/decision", status_code=200, summary="Confirm (owner), decline with a reason, or pass up")
    async def decide(
        self, request: Request, actor: NamedDependency[Actor], request_id: PathId, data: JSONBody[RequestDecision]
    ) -> RequestView:
        return await chain.decide(request.app.state.portal, actor, request_id, data, ip=client_ip(request))
