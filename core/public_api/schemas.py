"""Structs of /api/send_sms: the guide's parameters (camelCase on the wire) and its {"results": [...]} answer."""

from __future__ import annotations

from typing import Annotated

import msgspec

# Parameters the guide lists whose features other issues build (Viber rich messages, SMS and Viber templates):
# accepted so the guide's requests decode, and ignored until then. WhatsApp's templateName/templateParams are used.
Flag = bool | str | None
Channels = Annotated[
    str | list[str],
    msgspec.Meta(
        description='The channel, or a cascade of several in the order they are tried: ["viber", "sms"] or "viber,sms".'
        " Each is tried once, SMS (when listed) last; a recipient the channel does not reach within fallbackTtl, or"
        " whose message ends undelivered, failed or expired, gets the same message on the next one, under the same"
        " transaction id, priced and paid as an API message of that channel."
    ),
]
FallbackTtl = Annotated[
    int | str | None,
    msgspec.Meta(
        description="Cascades: seconds (1 to 259200, default 600) each channel but the last has to deliver before the"
        " next one is tried. Ignored with a single channel."
    ),
]

TemplateName = Annotated[
    str,
    msgspec.Meta(
        description="WhatsApp (required there): the name of one of your approved WhatsApp templates. The message sent"
        " is its body with templateParams filled in."
    ),
]
TemplateParams = Annotated[
    str | list[str] | None,
    msgspec.Meta(
        description="WhatsApp: the values of the template's parameters {{1}}, {{2}}… in order: a list, or a"
        " comma-separated string. Without it, message must be the template's body with its parameters filled in."
    ),
]
TemplateLanguage = Annotated[
    str,
    msgspec.Meta(description="WhatsApp: the template's language (es, en_US…), when templateName has several"),
]
TemplateHeaderParam = Annotated[
    str, msgspec.Meta(description="WhatsApp: the value of the template's text header parameter, when it has one")
]
TemplateButtonParams = Annotated[
    str | list[str] | None,
    msgspec.Meta(
        description="WhatsApp: one value per link button of the template whose URL ends in {{1}}, in the buttons'"
        " order (a list, or a comma-separated string)"
    ),
]


class SendSmsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """One message of a request: a JSON object of POST's body (or an element of its array), or GET's query.

    ``channels`` with several values is a cascade (CMP-7); ``fallbackTtl`` is each step's time to deliver. On
    WhatsApp, ``templateName`` (and ``templateParams``) choose the approved template sent.
    """

    channels: Channels = ""
    sender: str | int = msgspec.field(name="from", default="")
    to: str | int | list[str | int] = ""
    message: str = ""
    label: str = ""
    fallback_ttl: FallbackTtl = msgspec.field(name="fallbackTtl", default=None)
    is_flashed: Flag = msgspec.field(name="isFlashed", default=None)
    accept_mo: Flag = msgspec.field(name="acceptMO", default=None)
    auto_reply: Flag = msgspec.field(name="autoReply", default=None)
    traffic_type: str = msgspec.field(name="trafficType", default="")
    button_action_url: str = msgspec.field(name="buttonActionUrl", default="")
    image_url: str = msgspec.field(name="imageUrl", default="")
    button_caption: str = msgspec.field(name="buttonCaption", default="")
    sms_template_name: str = msgspec.field(name="smsTemplateName", default="")
    sms_template_params: str | list[str] | None = msgspec.field(name="smsTemplateParams", default=None)
    viber_template_name: str = msgspec.field(name="viberTemplateName", default="")
    viber_template_params: str | list[str] | None = msgspec.field(name="viberTemplateParams", default=None)
    template_name: TemplateName = msgspec.field(name="templateName", default="")
    template_params: TemplateParams = msgspec.field(name="templateParams", default=None)
    template_language: TemplateLanguage = msgspec.field(name="templateLanguage", default="")
    template_header_param: TemplateHeaderParam = msgspec.field(name="templateHeaderParam", default="")
    template_button_params: TemplateButtonParams = msgspec.field(name="templateButtonParams", default=None)
    client_ref: str = msgspec.field(name="clientRef", default="")
    dry_run: Flag = msgspec.field(name="dryRun", default=None)


class SendSmsOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``results``: "<dnis>:<transaction id>" or "<dnis>:<error>" per distinct recipient, in request order.

    A dry run adds what the accepted messages would cost, and its results read "<dnis>:OK <price> <currency>".
    """

    results: list[str]
    dry_run: bool = msgspec.field(name="dryRun", default=False)
    price: str = ""
    currency: str = ""
    messages: int = 0
