"""REST API of sender IDs: the owner's list per partner, each partner's own ones, and requests for new ones."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.senders import requests, services
from core.senders.controllers import UPLOAD_BODY_LIMIT, download, read_request_form, too_large
from core.senders.schemas import SenderCreate, SenderUpdate, SenderView
from core.tenancy import requests as chain
from core.tenancy.schemas import RequestView
from core.web.params import PathId
from core.web.shell import client_ip


class SendersAdminApi(Controller):
    path = "/api/admin"
    guards = [manager_guard]
    tags = ["Admin"]

    @get("/partners/{partner_id:int}/senders")
    async def list_senders(self, actor: NamedDependency[Actor], partner_id: PathId) -> list[SenderView]:
        return await services.list_senders(actor, partner_id)

    @post("/partners/{partner_id:int}/senders", status_code=201)
    async def create(
        self, request: Request, actor: NamedDependency[Actor], partner_id: PathId, data: JSONBody[SenderCreate]
    ) -> SenderView:
        return await services.create_sender(actor, partner_id, data, ip=client_ip(request))

    @patch("/senders/{sender_id:int}")
    async def update(
        self, request: Request, actor: NamedDependency[Actor], sender_id: PathId, data: JSONBody[SenderUpdate]
    ) -> SenderView:
        return await services.update_sender(actor, sender_id, data, ip=client_ip(request))

    @delete("/senders/{sender_id:int}", status_code=204)
    async def remove(self, request: Request, actor: NamedDependency[Actor], sender_id: PathId) -> None:
        await services.delete_sender(actor, sender_id, ip=client_ip(request))


class SendersApi(Controller):
    path = "/api/senders"
    tags = ["Sender IDs"]

    @get("/", summary="The caller's enabled sender IDs")
    async def enabled(self, actor: NamedDependency[Actor], channel: FromQuery[str] = "") -> list[SenderView]:
        return await services.enabled_senders(actor, channel or None)

    @get("/all", summary="All the caller's sender IDs: enabled, disabled and waiting for a request")
    async def own(self, actor: NamedDependency[Actor]) -> list[SenderView]:
        return await requests.own_senders(actor)

    @post("/{sender_id:int}/unsubscribe", summary="Give an enabled sender ID up")
    async def unsubscribe(self, request: Request, actor: NamedDependency[Actor], sender_id: PathId) -> SenderView:
        return await requests.unsubscribe(actor, sender_id, ip=client_ip(request))


_TEXT = Schema(type=OpenAPIType.STRING)


@dataclass
class _MultipartRequestOperation(Operation):
    """The handler reads the form itself (files and fields checked by the service), so the body is described here."""

    def __post_init__(self) -> None:
        fields: dict[str, Schema | Reference] = {
            "channel": Schema(type=OpenAPIType.STRING, description="sms, viber or whatsapp"),
            "name": Schema(type=OpenAPIType.STRING, description="Up to 11 letters/digits, or 15 digits"),
            "comment": Schema(type=OpenAPIType.STRING, max_length=500),
            "documents": Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                description="PDF files, at most 10 MB each",
            ),
            "business_manager_id": Schema(type=OpenAPIType.STRING, description="WhatsApp (required): 5 to 20 digits"),
            "phone": Schema(type=OpenAPIType.STRING, description="WhatsApp (required): the account's phone number"),
            "description": Schema(type=OpenAPIType.STRING, max_length=512, description="WhatsApp: the business"),
            "address": Schema(type=OpenAPIType.STRING, max_length=256, description="WhatsApp"),
            "email": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.EMAIL, description="WhatsApp"),
            "website": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.URI, description="WhatsApp: http(s)"),
            "logo": Schema(
                type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="WhatsApp: PNG or JPEG, at most 5 MB"
            ),
        }
        schema = Schema(type=OpenAPIType.OBJECT, properties=fields, required=["channel", "name"])
        self.request_body = RequestBody(
            content={"multipart/form-data": OpenAPIMediaType(schema=schema)}, required=True, description="The request"
        )


class SenderRequestsApi(Controller):
    """Requests for sender IDs (SID-1, SID-2), sent up the partner tree (TEN-5)."""

    path = "/api/senders/requests"
    tags = ["Sender IDs"]
    exception_handlers = {RequestEntityTooLarge: too_large}

    @get("/", summary="The caller's sender ID requests, newest first")
    async def list_requests(self, actor: NamedDependency[Actor]) -> list[RequestView]:
        return await requests.own_requests(actor)

    @post(
        "/",
        status_code=201,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        summary="Ask for a sender ID",
        operation_class=_MultipartRequestOperation,
        description=(
            "multipart/form-data: `channel` (sms, viber, whatsapp), `name` (up to 11 letters and digits, or up to"
            " 15 digits), `comment`, and any number of `documents` (PDF files of at most 10 MB each). WhatsApp adds"
            " `business_manager_id` and `phone` (required), `description`, `address`, `email`, `website` and a"
            " `logo` (PNG or JPEG, at most 5 MB)."
        ),
    )
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> RequestView:
        data, documents, logo = await read_request_form(request)
        var_dir = request.app.state.portal.settings.var_dir
        return await requests.request_sender(actor, data, documents, var_dir=var_dir, logo=logo)

    @get("/{request_id:int}", summary="One of the caller's requests, with the reason of a decline")
    async def get_request(self, actor: NamedDependency[Actor], request_id: PathId) -> RequestView:
        return await chain.get_request(actor, request_id)

    @get("/{request_id:int}/files/{index:int}", summary="A document of the request", media_type="application/pdf")
    async def file(
        self, request: Request, actor: NamedDependency[Actor], request_id: PathId, index: FromPath[int]
    ) -> File:
        path, name = await chain.attachment(actor, request_id, index, request.app.state.portal.settings.var_dir)
        return download(path, name)

    @post("/{request_id:int}/cancel", summary="Withdraw an open request", status_code=200)
    async def cancel(self, request: Request, actor: NamedDependency[Actor], request_id: PathId) -> RequestView:
        return await chain.cancel(actor, request_id, ip=client_ip(request))
