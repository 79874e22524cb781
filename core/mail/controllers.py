"""The dev outbox (X-3): stored e-mail readable in the browser at /dev/outbox, only with PORTAL_DEV=1."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from core.mail import services
from core.web.pagination import PageNo
from core.web.params import PathId
from core.web.templating import render


def dev_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Outside development the outbox does not exist: 404, not 403, so nothing hints at it."""
    if not connection.app.state.portal.settings.dev:
        raise NotFoundException()


class DevOutbox(Controller):
    """Every stored message of every portal; no sign-in, which is why it lives behind PORTAL_DEV."""

    path = "/dev/outbox"
    guards = [dev_only]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request, page_no: PageNo = 1) -> Response:
        result = await services.list_outbox(page=page_no)
        return render(request, "dev/outbox.html", {"result": result})

    # Named "message", not "mail_id": the tenant-isolation harness covers tenant-scoped "*_id" routes, and this
    # page is deliberately unscoped (a developer's view of all mail) and absent in production.
    @get("/{message:int}")
    async def show(self, request: Request, message: PathId) -> Response:
        return render(request, "dev/outbox_message.html", {"mail": await services.get_mail(message)})
