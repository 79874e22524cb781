"""Campaign templates (TPL-1, TPL-3, TPL-5): list, create, change and delete; pages and the REST API call these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.contacts.fields import variables
from core.db import icontains, json_value, unique_or, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.message_templates import premoderation
from core.message_templates.rendering import RICH_KEYS, check_rich, estimate_text, traffic_type, unknown_variables
from core.message_templates.schemas import (
    SCHEDULED_USERS,
    TemplateCreate,
    TemplateFilter,
    TemplateUpdate,
    TemplateUser,
    TemplateView,
    users_named,
)
from core.message_templates.tables import MessageTemplate
from core.portal import Portal
from core.providers import ChannelProvider
from core.senders.services import usable
from core.senders.tables import Sender
from core.tenancy import audit
from core.tenancy import requests as chain
from core.tenancy.options import partner_options
from core.tenancy.scope import owned
from core.web.i18n import N_, Message
from core.web.pagination import Page, paginate

# Channels whose template kind is built: SMS keeps text and flash in ``content``, Viber adds image and button.
# WhatsApp sends only its vendor's approved templates (vendor.py), never these.
TEMPLATE_CHANNELS = ("sms", "viber")

# What still uses a template (a scheduled campaign made from it, …), for the warning before deleting it. Higher
# layers register their look-up here at import, so this module knows nothing of campaigns.
TEMPLATE_USERS: list[Callable[[int], Awaitable[list[TemplateUser]]]] = []


def template_channels(portal: Portal) -> list[ChannelProvider]:
    """The registered channels a template can be made for: the channel filter offers only these."""
    return [c for c in portal.registries.channels if c.name in TEMPLATE_CHANNELS]


async def check_variables(actor: Actor, text: str, extra: Iterable[str] = ()) -> None:
    """Every variable of ``text`` is a contact column, one of the partner's custom fields or one of ``extra`` (TPL-3;
    a campaign from file adds its columns).

    Raises:
        InvalidInput: on ``text``, naming the first unknown variable.
    """
    unknown = unknown_variables(text, [*await variables(actor), *extra])
    if unknown:
        raise InvalidInput(f"Unknown variable {{{unknown[0]}}}: use a contact column or custom field", field="text")


async def may_flash(portal: Portal, actor: Actor, channel: str) -> bool:
    """Whether the form offers the flash flag: the channel can send flash and the partner is allowed to."""
    provider = portal.registries.channels.get(channel)
    return bool(provider and provider.capabilities.flash and (await partner_options(actor.partner_id)).flash_sms)


def _same_name(name: str) -> WhereRaw:
    return WhereRaw("lower(message_template.name) = {}", name.lower())


def _view(portal: Portal, row: dict[str, Any], senders: dict[int, dict[str, Any]]) -> TemplateView:
    content = json_value(row["content"]) or {}
    text = str(content.get("text", ""))
    provider = portal.registries.channels.get(row["channel"])
    estimate = estimate_text(text)
    sender = senders.get(row["sender_id"] or 0)
    return TemplateView(
        id=row["id"],
        name=row["name"],
        channel=row["channel"],
        channel_label=provider.label if provider else row["channel"],
        sender_id=row["sender_id"],
        sender=sender["name"] if sender else "",
        sender_enabled=bool(sender and sender["status"] == "enabled" and sender["channel"] == row["channel"]),
        text=text,
        flash=bool(content.get("flash", False)),
        image_url=str(content.get("image_url", "")),
        button_caption=str(content.get("button_caption", "")),
        button_url=str(content.get("button_url", "")),
        traffic_type=traffic_type(content),
        length=len(estimate),
        parts=provider.segments(estimate) if provider and text else 0,
        status=row["status"],
        status_reason=row["status_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _senders_of(actor: Actor, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await Sender.select(Sender.id, Sender.name, Sender.status, Sender.channel).where(
        owned(Sender, actor) & Sender.id.is_in(sorted(ids))
    )
    return {r["id"]: r for r in rows}


async def _views(portal: Portal, actor: Actor, rows: list[dict[str, Any]]) -> list[TemplateView]:
    senders = await _senders_of(actor, {r["sender_id"] for r in rows if r["sender_id"]})
    return [_view(portal, r, senders) for r in rows]


async def _own(actor: Actor, template_id: int) -> dict[str, Any]:
    row = (
        await MessageTemplate.select()
        .where((MessageTemplate.id == template_id) & owned(MessageTemplate, actor))
        .first()
    )
    if row is None:
        raise NotFound("Template")
    return row


async def list_templates(portal: Portal, actor: Actor, f: TemplateFilter) -> Page[TemplateView]:
    where: Combinable = owned(MessageTemplate, actor)
    if f.query:
        where &= icontains(MessageTemplate.name, f.query)
    if f.channel:
        where &= MessageTemplate.channel == f.channel
    if f.status:
        where &= MessageTemplate.status == f.status
    found = await paginate(
        MessageTemplate.select()
        .order_by(MessageTemplate.updated_at, ascending=False)
        .order_by(MessageTemplate.id, ascending=False),
        where,
        page=f.page,
        per_page=f.per_page,
    )
    return found.with_items(await _views(portal, actor, found.items))


async def get_template(portal: Portal, actor: Actor, template_id: int) -> TemplateView:
    return (await _views(portal, actor, [await _own(actor, template_id)]))[0]


# Every image and button part, empty: the audit shows a part removed as well as one added.
_NO_RICH = dict.fromkeys(RICH_KEYS, "")


def _content(text: str, flash: bool, rich: dict[str, str]) -> dict[str, Any]:
    """What ``content`` stores: text and flash, and the image and button parts given (Viber)."""
    return {"text": text, "flash": flash, **{key: value.strip() for key, value in rich.items() if value.strip()}}


async def _check(
    portal: Portal,
    actor: Actor,
    *,
    name: str,
    channel: str,
    sender_id: int | None,
    text: str,
    flash: bool,
    rich: dict[str, str],
) -> None:
    """Every rule of a template; raises InvalidInput naming the field, before anything is written."""
    if not name.strip():
        raise InvalidInput(N_("Give the template a name"), field="name")
    provider = portal.registries.channels.get(channel)
    if provider is None or channel not in TEMPLATE_CHANNELS:
        raise InvalidInput(f"Templates cannot be made for the channel {channel!r}", field="channel")
    if sender_id is None:
        raise InvalidInput(N_("Choose one of your enabled sender IDs for this channel"), field="sender_id")
    if not await Sender.exists().where(
        (Sender.id == sender_id) & owned(Sender, actor) & (Sender.channel == channel) & usable()
    ):
        raise InvalidInput(N_("Choose one of your enabled sender IDs for this channel"), field="sender_id")
    if not text.strip():
        raise InvalidInput(N_("The message text is empty"), field="text")
    await check_variables(actor, text)
    options = await partner_options(actor.partner_id)
    if options.channels and channel not in options.channels:
        raise InvalidInput(f"Your company may not send on {provider.label}; ask your provider", field="channel")
    if flash and not provider.capabilities.flash:
        raise InvalidInput(N_("The chosen channel cannot send flash messages"), field="flash")
    if flash and not options.flash_sms:
        raise InvalidInput(N_("Your company may not send flash messages; ask your provider"), field="flash")
    check_rich(provider, rich["image_url"], rich["button_caption"], rich["button_url"])


async def _name_taken(actor: Actor, name: str, *, besides: int | None = None) -> None:
    where = owned(MessageTemplate, actor) & _same_name(name)
    if besides is not None:
        where &= MessageTemplate.id != besides
    if await MessageTemplate.exists().where(where):
        raise _taken(name)


def _taken(name: str) -> Conflict:
    return Conflict(f"A template named {name!r} already exists", field="name")


async def create_template(portal: Portal, actor: Actor, data: TemplateCreate, *, ip: str = "") -> TemplateView:
    name = data.name.strip()
    rich = {key: getattr(data, key) for key in RICH_KEYS}
    await _check(
        portal,
        actor,
        name=name,
        channel=data.channel,
        sender_id=data.sender_id,
        text=data.text,
        flash=data.flash,
        rich=rich,
    )
    content = _content(data.text, data.flash, rich)
    now = datetime.now(UTC)
    with unique_or(_taken(name)):
        async with write_transaction():
            await _name_taken(actor, name)
            rows = await MessageTemplate.insert(
                MessageTemplate(
                    partner=actor.partner_id,
                    channel=data.channel,
                    name=name,
                    sender_id=data.sender_id,
                    content=content,
                    created_by=actor.user_id,
                    created_at=now,
                    updated_at=now,
                )
            ).returning(MessageTemplate.id)
            template_id = rows[0]["id"]
            await audit.record(
                actor,
                "template.create",
                f"Created template {name!r}",
                object_type="template",
                object_id=template_id,
                ip=ip,
                name=name,
            )
            if await premoderation.premoderated(actor):
                await premoderation.ask(actor, template_id, _summary(name, data.channel, content), ip=ip)
    return await get_template(portal, actor, template_id)


def _summary(name: str, channel: str, content: dict[str, Any]) -> dict[str, str]:
    """What the parent reads in its inbox before deciding on a template: its text, image and button."""
    return {"name": name, "channel": channel, **{k: str(v) for k, v in content.items() if k != "flash"}}


async def update_template(
    portal: Portal, actor: Actor, template_id: int, data: TemplateUpdate, *, ip: str = ""
) -> TemplateView:
    row = await _own(actor, template_id)
    content = json_value(row["content"]) or {}
    name = row["name"] if data.name is UNSET else data.name.strip()
    sender_id = row["sender_id"] if data.sender_id is UNSET else data.sender_id
    text = str(content.get("text", "")) if data.text is UNSET else data.text
    flash = bool(content.get("flash", False)) if data.flash is UNSET else data.flash
    rich = {key: str(content.get(key, "")) if getattr(data, key) is UNSET else getattr(data, key) for key in RICH_KEYS}
    await _check(
        portal, actor, name=name, channel=row["channel"], sender_id=sender_id, text=text, flash=flash, rich=rich
    )
    new_content = _content(text, flash, rich)
    old_content = _content(
        str(content.get("text", "")),
        bool(content.get("flash", False)),
        {key: str(content.get(key, "")) for key in RICH_KEYS},
    )
    with unique_or(_taken(name)):
        async with write_transaction():
            await _name_taken(actor, name, besides=template_id)
            await MessageTemplate.update(
                {
                    MessageTemplate.name: name,
                    MessageTemplate.sender_id: sender_id,
                    MessageTemplate.content: new_content,
                    MessageTemplate.updated_at: datetime.now(UTC),
                }
            ).where(MessageTemplate.id == template_id)
            await audit.record(
                actor,
                "template.update",
                f"Changed template {name!r}",
                object_type="template",
                object_id=template_id,
                ip=ip,
                name=row["name"],
                changed=audit.changes(
                    {"name": row["name"], "sender_id": row["sender_id"], **_NO_RICH, **old_content},
                    {"name": name, "sender_id": sender_id, **_NO_RICH, **new_content},
                ),
            )
            changed = (sender_id, new_content) != (row["sender_id"], old_content)
            if (changed or row["status"] != "approved") and await premoderation.premoderated(actor):
                # What it sends changed (or was never approved): the parent decides again.
                await premoderation.ask(actor, template_id, _summary(name, row["channel"], new_content), ip=ip)
    return await get_template(portal, actor, template_id)


async def template_users(actor: Actor, template_id: int) -> list[TemplateUser]:
    """What would lose this template if it were deleted now (scheduled campaigns made from it, …)."""
    await _own(actor, template_id)
    found: list[TemplateUser] = []
    for look_up in TEMPLATE_USERS:
        found.extend(await look_up(template_id))
    return found


async def delete_template(actor: Actor, template_id: int, *, force: bool = False, ip: str = "") -> None:
    """Delete a template. While something still uses it, ``force`` is required: the user was warned (TPL-5)."""
    row = await _own(actor, template_id)
    users = await template_users(actor, template_id)
    if users and not force:
        raise Conflict(Message(SCHEDULED_USERS, {"names": users_named(users)}), field="force")
    async with write_transaction():
        if row["request_id"] is not None:
            await chain.withdraw(actor, row["request_id"], ip=ip)
        await MessageTemplate.delete().where(MessageTemplate.id == template_id)
        await audit.record(
            actor,
            "template.delete",
            f"Deleted template {row['name']!r}",
            object_type="template",
            object_id=template_id,
            ip=ip,
            name=row["name"],
        )


async def template_status(partner_id: int, template_id: int) -> str | None:
    """The partner's template's status (approved, waiting, declined), or None when it has no such template."""
    row = (
        await MessageTemplate.select(MessageTemplate.status)
        .where((MessageTemplate.id == template_id) & (MessageTemplate.partner == partner_id))
        .first()
    )
    return row["status"] if row else None


async def template_exists(partner_id: int, template_id: int) -> bool:
    """Whether the partner still has the template: a campaign made from a deleted one fails at launch."""
    return bool(
        await MessageTemplate.exists().where(
            (MessageTemplate.id == template_id) & (MessageTemplate.partner == partner_id)
        )
    )
