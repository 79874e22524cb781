"""WhatsApp templates through /api/send_sms: the approved template a message names (templateName…), checked and
filled in by the campaigns' own rule (``core.campaigns.services.vendor_content``), or a 400 naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass

from core.actor import Actor
from core.campaigns.services import vendor_content
from core.errors import InvalidInput
from core.message_templates.tables import VendorTemplate
from core.message_templates.vendor import filled
from core.portal import Portal
from core.providers import template_param_numbers
from core.public_api.checks import BadParameter, Message, Request, Wanted
from core.tenancy.scope import owned

# The campaign's fields vendor_content names in its refusals → the API's parameters.
API_FIELDS = {
    "vendor_template_id": "templateName",
    "header_param": "templateHeaderParam",
    "button_params": "templateButtonParams",
}


@dataclass(frozen=True)
class _Choice:
    """A message's template and values as ``vendor_content`` reads them (``core.campaigns.services.TemplateChoice``)."""

    channel: str
    vendor_template_id: int | None
    text: str
    header_param: str
    button_params: list[str]


async def choose_templates(portal: Portal, actor: Actor, request: Request) -> None:
    """Give each message naming a template its text (the body, parameters filled in) and the channel's content.

    Raises:
        BadParameter: a template is unknown, not approved, in several languages, or its parameters do not fit.
    """
    for position, message in enumerate(request.messages):
        if message.template is not None:
            where = f" (message {position + 1})" if len(request.messages) > 1 else ""
            await _choose(portal, actor, message, message.template, where)


async def _choose(portal: Portal, actor: Actor, message: Message, wanted: Wanted, where: str) -> None:
    provider = portal.registries.channels.get(message.channel)
    label = provider.label if provider is not None else message.channel
    query = VendorTemplate.select(
        VendorTemplate.id, VendorTemplate.language, VendorTemplate.status, VendorTemplate.body
    ).where(owned(VendorTemplate, actor) & (VendorTemplate.channel == message.channel))
    query = query.where(VendorTemplate.name == wanted.name)
    if wanted.language:
        query = query.where(VendorTemplate.language == wanted.language)
    rows = await query.order_by(VendorTemplate.id)
    named = f"{wanted.name!r}" + (f" ({wanted.language})" if wanted.language else "")
    if not rows:
        raise BadParameter(f"templateName: you have no {label} template {named}{where}", field="templateName")
    approved = [r for r in rows if r["status"] == "approved"]
    if not approved:
        raise BadParameter(
            f"templateName: the {label} template {named} is {rows[0]['status']}, not approved{where}: only approved"
            " templates can be sent",
            field="templateName",
        )
    if len(approved) > 1:
        languages = ", ".join(r["language"] for r in approved)
        raise BadParameter(
            f"templateLanguage: the {label} template {named} is approved in several languages ({languages}){where}:"
            " choose one",
            field="templateLanguage",
        )
    row = approved[0]
    count = len(template_param_numbers(row["body"]))
    text = message.text
    if wanted.params is not None:
        if len(wanted.params) != count:
            raise BadParameter(
                f"templateParams: the template {named} takes {count} parameters, not {len(wanted.params)}{where}",
                field="templateParams",
            )
        text = filled(row["body"], wanted.params)
        if message.text.strip() and message.text != text:
            raise BadParameter(
                f"message differs from the template {named} filled in with templateParams{where}: leave message"
                " out, or send that text",
                field="message",
            )
    elif not text.strip():
        if count:
            raise BadParameter(
                f"templateParams is required{where}: the template {named} takes {count} parameters",
                field="templateParams",
            )
        text = row["body"]
    choice = _Choice(message.channel, row["id"], text, wanted.header_param, wanted.button_params)
    try:
        content = await vendor_content(provider, actor, choice)
    except InvalidInput as exc:
        given = API_FIELDS.get((exc.field or "").split(".")[0])
        field = given or ("templateParams" if wanted.params is not None else "message")
        raise BadParameter(f"{field}: {exc.detail}{where}", field=field) from None
    message.text, message.content = text, content
