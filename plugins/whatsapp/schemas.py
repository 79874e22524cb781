"""Settings of the WhatsApp plugin and the Cloud API's JSON messages and webhooks (protocols.md §4)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core import N_

# The settings form labels each field by its name (core.dispatch.controllers.settings_fields); listed for the
# catalogue, as are the descriptions, its hints.
FIELD_LABELS = (
    N_("Api url"),
    N_("Access token"),
    N_("Phone number id"),
    N_("Business account id"),
    N_("App secret"),
    N_("Verify token"),
)


class WhatsAppSettings(msgspec.Struct, kw_only=True):
    """One WhatsApp Business account's phone number on the Cloud API (CHN-3); edited per vendor connection."""

    api_url: str = "http://127.0.0.1:8782"
    api_version: str = "v21.0"
    access_token: Annotated[str, Meta(description="The system user's bearer token")] = ""
    phone_number_id: str = ""
    business_account_id: Annotated[str, Meta(description="The WABA id templates are submitted to")] = ""
    app_secret: Annotated[str, Meta(description="Signs Meta's webhooks (X-Hub-Signature-256)")] = ""
    verify_token: Annotated[str, Meta(description="Meta's hub.verify_token for the webhook handshake")] = ""
    throughput: Annotated[int, Meta(ge=1, le=1_000, description="Messages per second")] = 80
    window: Annotated[int, Meta(ge=1, le=200, description="Requests in flight")] = 10
    request_timeout: Annotated[float, Meta(gt=0, le=120, description="Wait for an answer, seconds")] = 10.0


# --- sending ------------------------------------------------------------------------------------------------------


class Language(msgspec.Struct, kw_only=True):
    code: str
    policy: str = "deterministic"


class MediaLink(msgspec.Struct, kw_only=True):
    link: str


class Parameter(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A text parameter, or a media header's link (``type`` image, video or document)."""

    type: str = "text"
    text: str = ""
    image: MediaLink | None = None
    video: MediaLink | None = None
    document: MediaLink | None = None


class Component(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A header, body or button's parameters; a button names its ``sub_type`` (url) and ``index`` (from "0")."""

    type: str
    parameters: list[Parameter]
    sub_type: str = ""
    index: str = ""


class Template(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    language: Language
    components: list[Component] = []


class SendRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST /{version}/{phone_number_id}/messages, one template message."""

    to: str
    template: Template
    biz_opaque_callback_data: str = ""
    messaging_product: str = "whatsapp"
    recipient_type: str = "individual"
    type: str = "template"


class MessageId(msgspec.Struct, kw_only=True):
    id: str


class SendAnswer(msgspec.Struct, kw_only=True):
    messages: list[MessageId]


class GraphError(msgspec.Struct, kw_only=True):
    code: int = 0
    message: str = ""
    title: str = ""


class ErrorAnswer(msgspec.Struct, kw_only=True):
    error: GraphError


class TemplateRequest(msgspec.Struct, kw_only=True):
    """POST /{version}/{waba_id}/message_templates."""

    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    allow_category_change: bool = True


class TemplateAnswer(msgspec.Struct, kw_only=True):
    id: str
    status: str = "PENDING"
    category: str = ""
    rejected_reason: str | None = None


# --- webhooks -----------------------------------------------------------------------------------------------------


class StatusError(msgspec.Struct, kw_only=True):
    code: int = 0
    title: str = ""


class Status(msgspec.Struct, kw_only=True):
    id: str
    status: str
    timestamp: str | int | None = None
    recipient_id: str = ""
    biz_opaque_callback_data: str = ""
    errors: list[StatusError] = []


class Text(msgspec.Struct, kw_only=True):
    body: str = ""


class Button(msgspec.Struct, kw_only=True):
    payload: str = ""
    text: str = ""


class Inbound(msgspec.Struct, kw_only=True, rename={"sender": "from"}):
    sender: str
    id: str
    type: str = "text"
    timestamp: str | int | None = None
    text: Text | None = None
    button: Button | None = None


class Metadata(msgspec.Struct, kw_only=True):
    display_phone_number: str = ""
    phone_number_id: str = ""


class Value(msgspec.Struct, kw_only=True):
    """A change's value: statuses and messages (field ``messages``) or a template's review
    (``message_template_status_update``)."""

    metadata: Metadata | None = None
    statuses: list[Status] = []
    messages: list[Inbound] = []
    event: str = ""
    message_template_id: int | str = ""
    message_template_name: str = ""
    message_template_language: str = ""
    reason: str | None = None


class Change(msgspec.Struct, kw_only=True):
    field: str
    value: Value


class Entry(msgspec.Struct, kw_only=True):
    id: str = ""
    changes: list[Change] = []


class Envelope(msgspec.Struct, kw_only=True):
    object: str = ""
    entry: list[Entry] = []
