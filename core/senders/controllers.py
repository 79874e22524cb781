"""The Sender IDs page of the portal (SID-1, SID-2): the partner's sender IDs, its requests and the request form."""

from __future__ import annotations

import mimetypes
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath
from litestar.response import File, Redirect

from core.actor import Actor
from core.errors import InvalidInput, NotFound, PortalError
from core.plugins import registries
from core.portal import Portal
from core.senders import requests
from core.senders.schemas import WHATSAPP_FIELDS, SenderRequestCreate, SenderRequestDocument
from core.tenancy import requests as chain
from core.web.errors import portal_error
from core.web.forms import convert
from core.web.params import PathId
from core.web.shell import client_ip, page

# Room for the documents and the multipart envelope around them, so that our own message, not the server's, says no.
UPLOAD_BODY_LIMIT = requests.MAX_DOCUMENTS * requests.MAX_DOCUMENT_BYTES + 1024 * 1024


def too_large(request: Request, _: RequestEntityTooLarge) -> Response:
    return portal_error(request, InvalidInput("The documents are larger than 10 MB each", field="documents"))


def _portal(request: Request) -> Portal:
    return request.app.state.portal


async def read_request_form(
    request: Request,
) -> tuple[SenderRequestCreate, list[SenderRequestDocument], SenderRequestDocument | None]:
    """The request form as the page and the API receive it: fields, PDF documents and WhatsApp's logo, multipart."""
    form = await request.form()
    keys = ("channel", "name", "comment", *WHATSAPP_FIELDS)
    data = convert({key: str(form.get(key, "")) for key in keys if key in form}, SenderRequestCreate)
    documents = []
    for upload in form.getall("documents") if "documents" in form else []:
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue  # an empty file input sends an empty part
        content = await upload.read(requests.MAX_DOCUMENT_BYTES + 1)
        documents.append(SenderRequestDocument(filename=upload.filename, content=content))
    logo = None
    upload = form.get("logo")
    if isinstance(upload, UploadFile) and upload.filename:
        logo = SenderRequestDocument(filename=upload.filename, content=await upload.read(requests.MAX_LOGO_BYTES + 1))
    return data, documents, logo


def download(path: Any, name: str) -> File:
    """An attachment as a download, typed by its stored name (PDF documents, WhatsApp's PNG or JPEG logo)."""
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return File(path=path, filename=name, media_type=media_type, content_disposition_type="attachment")


class SenderPages(Controller):
    path = "/senders"
    include_in_schema = False
    exception_handlers = {RequestEntityTooLarge: too_large}

    @get("/")
    async def index(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        channel = str(request.query_params.get("channel") or "")
        return await page(
            request,
            actor,
            "senders/index.html",
            {
                "senders": [s for s in await requests.own_senders(actor) if not channel or s.channel == channel],
                "requests": [
                    r for r in await requests.own_requests(actor) if not channel or r.payload.get("channel") == channel
                ],
                "channel": channel,
                "channels": list(registries().channels),
                "status_label": chain.status_label,
                "done": request.query_params.get("done", ""),
            },
        )

    async def _form(
        self,
        request: Request,
        actor: Actor,
        *,
        values: Any = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "senders/request_form.html",
            {
                "channels": list(registries().channels),
                "values": values or {},
                "error": error,
                "error_field": field,
                "max_mb": requests.MAX_DOCUMENT_BYTES // (1024 * 1024),
            },
            status_code=status_code,
        )

    @get("/new")
    async def new(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._form(request, actor)

    @post("/requests", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            data, documents, logo = await read_request_form(request)
            await requests.request_sender(actor, data, documents, var_dir=_portal(request).settings.var_dir, logo=logo)
        except PortalError as exc:
            form = await request.form()
            values = {key: str(form.get(key, "")) for key in ("channel", "name", "comment")}
            return await self._form(
                request, actor, values=values, error=exc.detail, field=exc.field, status_code=exc.status_code
            )
        return Redirect("/senders?done=requested")

    @get("/requests/{request_id:int}")
    async def detail(self, request: Request, actor: NamedDependency[Actor], request_id: PathId) -> Response:
        view = await chain.get_request(actor, request_id)
        if view.partner_id != actor.partner_id or view.kind != requests.KIND:
            raise NotFound("Request")
        return await page(
            request, actor, "senders/request.html", {"item": view, "status_label": chain.status_label(view.status)}
        )

    @get("/requests/{request_id:int}/files/{index:int}")
    async def file(
        self, request: Request, actor: NamedDependency[Actor], request_id: PathId, index: FromPath[int]
    ) -> File:
        path, name = await chain.attachment(actor, request_id, index, _portal(request).settings.var_dir)
        return download(path, name)

    @post("/requests/{request_id:int}/cancel")
    async def cancel(self, request: Request, actor: NamedDependency[Actor], request_id: PathId) -> Response:
        await chain.cancel(actor, request_id, ip=client_ip(request))
        return Redirect("/senders?done=canceled")

    @post("/{sender_id:int}/unsubscribe")
    async def unsubscribe(self, request: Request, actor: NamedDependency[Actor], sender_id: PathId) -> Response:
        await requests.unsubscribe(actor, sender_id, ip=client_ip(request))
        return Redirect("/senders?done=unsubscribed")
