"""Vendor template Structs at the boundaries: a template to submit for approval, and what the API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class TemplateHeader(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A template's header: a text (at most the parameter {{1}}), a media link or a location."""

    kind: Literal["text", "image", "video", "document", "location"]
    text: Annotated[str, Meta(max_length=60, description="A text header; {{1}} for its one parameter")] = ""
    url: Annotated[str, Meta(max_length=2000, description="A media header's https link, sent with each message")] = ""


class TemplateButton(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A button under the template: a quick reply, a link (a parameter {{1}} may end it), a phone number, or an
    authentication template's one copy-code button (Meta's OTP button of type COPY_CODE)."""

    kind: Literal["quick_reply", "url", "phone_number", "copy_code"]
    text: Annotated[str, Meta(min_length=1, max_length=25)]
    url: Annotated[str, Meta(max_length=2000)] = ""
    phone_number: Annotated[str, Meta(max_length=20)] = ""


class VendorTemplateCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A template to submit to the channel's vendor (WhatsApp); it can be used once the vendor approves it."""

    channel: Annotated[str, Meta(max_length=40)] = "whatsapp"
    name: Annotated[
        str, Meta(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$", description="Lower case, digits, _")
    ]
    language: Annotated[
        str, Meta(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", description="Meta's language code: en_US, es, de…")
    ] = "en_US"
    category: Literal["authentication", "utility", "marketing"] = "utility"
    body: Annotated[
        str,
        Meta(
            max_length=1024,
            description="Parameters as {{1}}, {{2}}…; none for an authentication template, whose text is Meta's",
        ),
    ] = ""
    header: TemplateHeader | None = None
    footer: Annotated[str, Meta(max_length=60, description="No parameters")] = ""
    buttons: Annotated[list[TemplateButton], Meta(max_length=10)] = []
    add_security_recommendation: Annotated[
        bool, Meta(description="Authentication: Meta's 'do not share this code' sentence after the code")
    ] = False
    code_expiration_minutes: (
        Annotated[int, Meta(ge=1, le=90, description="Authentication: the footer says the code expires after it")]
        | None
    ) = None


class VendorTemplateView(msgspec.Struct, kw_only=True):
    id: int
    channel: str
    name: str
    language: str
    category: str
    body: str
    header: TemplateHeader | None
    footer: str
    buttons: list[TemplateButton]
    add_security_recommendation: bool
    code_expiration_minutes: int | None
    params: int
    status: str
    reason: str
    created_at: datetime
    updated_at: datetime
