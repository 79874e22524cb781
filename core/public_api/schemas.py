"""Structs of /api/send_sms: the guide's parameters (camelCase on the wire) and its {"results": [...]} answer."""

from __future__ import annotations

import msgspec

# Parameters the guide lists whose features other issues build (Viber rich messages, templates, cascades):
# accepted so the guide's requests decode, and ignored until then.
Flag = bool | str | None


class SendSmsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """One message of a request: a JSON object of POST's body (or an element of its array), or GET's query."""

    channels: str | list[str] = ""
    sender: str | int = msgspec.field(name="from", default="")
    to: str | int | list[str | int] = ""
    message: str = ""
    label: str = ""
    fallback_ttl: int | str | None = msgspec.field(name="fallbackTtl", default=None)
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
    template_name: str = msgspec.field(name="templateName", default="")
    template_params: str | list[str] | None = msgspec.field(name="templateParams", default=None)
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
