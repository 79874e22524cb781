"""Exception handlers: JSON with the field for the API, a page (or the sign-in redirect) for people."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Redirect
from litestar.types import Receive, Scope, Send

from core.errors import NotFound, PortalError, Unauthenticated
from core.web.forms import split_field
from core.web.i18n import N_
from core.web.templating import load_request_portal, render

log = logging.getLogger(__name__)
_FIELD = re.compile(r"[a-z_][a-z0-9_.]*")


def _api(request: Request) -> bool:
    # Vendor webhooks (/hooks/) are called by servers and may come on a host that is no portal's.
    return request.url.path.startswith(("/api/", "/hooks/")) or "application/json" in request.headers.get("accept", "")


def portal_error(request: Request, exc: PortalError) -> Response:
    if _api(request):
        body = {"status_code": exc.status_code, "detail": exc.detail}
        if exc.field:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if exc.status_code == 401 else None
        return Response(body, status_code=exc.status_code, media_type=MediaType.JSON, headers=headers)
    if isinstance(exc, Unauthenticated):
        return Redirect(f"/login?next={quote(request.url.path)}")
    return render(
        request, "error.html", {"status_code": exc.status_code, "detail": exc.detail}, status_code=exc.status_code
    )


def http_error(request: Request, exc: HTTPException) -> Response:
    """Litestar's own errors (unknown route, bad JSON, CSRF) in the same two shapes."""
    if isinstance(exc, ValidationException):
        return _invalid_parameters(request, exc)
    if isinstance(exc, NotFoundException):
        return portal_error(request, NotFound("Page")) if _api(request) else _UnknownRoute()
    if _api(request):
        body = {"status_code": exc.status_code, "detail": exc.detail}
        # Our own refusals read "field: reason"; litestar's may end in a msgspec path that names no field.
        if (field := split_field(exc.detail)[0]) and _FIELD.fullmatch(field):
            body["field"] = field
        return Response(body, status_code=exc.status_code, media_type=MediaType.JSON)
    if exc.status_code == 403 and "csrf" in exc.detail.lower():
        detail = N_("Your form expired. Go back, reload the page and try again.")
    else:
        detail = exc.detail
    return render(
        request, "error.html", {"status_code": exc.status_code, "detail": detail}, status_code=exc.status_code
    )


class _UnknownRoute(Response):
    """The 404 page of an unknown route, rendered once the Host's portal is known (no middleware ran for it)."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=404)

    def to_asgi_response(self, app: Any, request: Request, **kwargs: Any) -> Any:  # an ASGI app is all litestar calls
        async def respond(scope: Scope, receive: Receive, send: Send) -> None:
            await load_request_portal(request)
            page = portal_error(request, NotFound("Page"))
            await page.to_asgi_response(app, request, **kwargs)(scope, receive, send)

        return respond


def _invalid_parameters(request: Request, exc: ValidationException) -> Response:
    """A 400 that names the first bad parameter; a bad path parameter (an id out of range) names no object: 404."""
    errors = [e for e in exc.extra if isinstance(e, dict)] if isinstance(exc.extra, list) else []
    if any(e.get("source") == "path" for e in errors):
        return portal_error(request, NotFound("Page"))
    first = errors[0] if errors else {}
    field, message = split_field(str(first.get("message") or exc.detail))
    if field is None and first.get("key") not in (None, "", "data"):
        field = first["key"]
    detail = f"{field}: {message}" if field else message
    if _api(request):
        body = {"status_code": 400, "detail": detail}
        if field:
            body["field"] = field
        return Response(body, status_code=400, media_type=MediaType.JSON)
    return render(request, "error.html", {"status_code": 400, "detail": detail}, status_code=400)


def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _api(request):
        return Response({"status_code": 500, "detail": "Internal server error"}, status_code=500)
    return render(
        request, "error.html", {"status_code": 500, "detail": N_("Something went wrong on our side.")}, status_code=500
    )
