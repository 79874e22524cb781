"""Reply templates (TPL-4): list, create, change, delete, and which one answers an MO; pages and the API call these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.contacts.services import own_groups
from core.contacts.tables import ContactGroup
from core.db import icontains, unique_or, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.message_templates.reply_schemas import ReplyCreate, ReplyFilter, ReplyUpdate, ReplyView
from core.message_templates.services import check_variables
from core.message_templates.tables import ReplyTemplate
from core.plugins import registries
from core.providers import ChannelProvider
from core.tenancy import audit
from core.tenancy.options import partner_options
from core.tenancy.schemas import PartnerOptions
from core.tenancy.scope import owned
from core.web.i18n import N_
from core.web.pagination import Page, paginate

MAX_KEYWORD = 50
REPLIES_OFF = N_("Auto-replies are off for your company; ask your provider to switch them on")


def reply_channels() -> list[ChannelProvider]:
    """The registered channels; each answers its MO messages by itself."""
    return list(registries().channels)


def keywords_of(raw: str) -> list[str]:
    """The keywords of a comma-separated list: trimmed, case-folded, each once, in the order given."""
    found: list[str] = []
    for part in raw.split(","):
        word = " ".join(part.split()).casefold()
        if word and word not in found:
            found.append(word)
    return found


def matching(templates: Iterable[Mapping[str, Any]], text: str) -> Mapping[str, Any] | None:
    """The template that answers ``text``: a keyword equal to its first words, the highest priority, then the newest.

    Words are compared without case and with runs of spaces as one, so "STOP", " stop " and "Stop now" match
    the keyword "stop", and "stopped" does not.
    """
    said = " ".join(text.split()).casefold()
    best: Mapping[str, Any] | None = None
    for t in templates:
        said_it = any(said == k or said.startswith(k + " ") for k in str(t["keywords"]).split(",") if k)
        if said_it and (best is None or (t["priority"], t["id"]) > (best["priority"], best["id"])):
            best = t
    return best


def _same_name(name: str) -> WhereRaw:
    return WhereRaw("lower(reply_template.name) = {}", name.lower())


def _taken(name: str) -> Conflict:
    return Conflict(f"A reply template named {name!r} already exists", field="name")


async def _views(actor: Actor, rows: list[dict[str, Any]]) -> list[ReplyView]:
    group_ids = sorted({r["group_id"] for r in rows if r["group_id"]})
    groups = (
        {
            g["id"]: g["name"]
            for g in await ContactGroup.select(ContactGroup.id, ContactGroup.name).where(
                owned(ContactGroup, actor) & ContactGroup.id.is_in(group_ids)
            )
        }
        if group_ids
        else {}
    )
    views = []
    for r in rows:
        provider = registries().channels.get(r["channel"])
        views.append(
            ReplyView(
                id=r["id"],
                name=r["name"],
                channel=r["channel"],
                channel_label=provider.label if provider else r["channel"],
                keywords=[k for k in str(r["keywords"]).split(",") if k],
                priority=r["priority"],
                text=r["text"],
                action=r["action"],
                group_id=r["group_id"],
                group=groups.get(r["group_id"] or 0, ""),
                created_at=r["created_at"],
                updated_at=r["updated_at"],
            )
        )
    return views


async def _own(actor: Actor, reply_id: int) -> dict[str, Any]:
    row = await ReplyTemplate.select().where((ReplyTemplate.id == reply_id) & owned(ReplyTemplate, actor)).first()
    if row is None:
        raise NotFound("Reply template")
    return row


def replies_on(options: PartnerOptions) -> bool:
    """Whether the partner's parent has switched MO messages and auto-replies on for it."""
    return options.mo_enabled and options.auto_replies


async def replies_enabled(actor: Actor) -> bool:
    return replies_on(await partner_options(actor.partner_id))


async def list_replies(actor: Actor, f: ReplyFilter) -> Page[ReplyView]:
    where: Combinable = owned(ReplyTemplate, actor)
    if f.query:
        where &= icontains(ReplyTemplate.name, f.query) | icontains(ReplyTemplate.keywords, f.query)
    if f.channel:
        where &= ReplyTemplate.channel == f.channel
    found = await paginate(
        ReplyTemplate.select()
        .order_by(ReplyTemplate.priority, ascending=False)
        .order_by(ReplyTemplate.id, ascending=False),
        where,
        page=f.page,
        per_page=f.per_page,
    )
    return found.with_items(await _views(actor, found.items))


async def get_reply(actor: Actor, reply_id: int) -> ReplyView:
    return (await _views(actor, [await _own(actor, reply_id)]))[0]


async def _check(actor: Actor, data: ReplyCreate) -> list[str]:
    """Every rule of a reply template, before anything is written; its keywords."""
    options = await partner_options(actor.partner_id)
    if not replies_on(options):
        raise InvalidInput(REPLIES_OFF)
    if not data.name.strip():
        raise InvalidInput(N_("Give the template a name"), field="name")
    provider = registries().channels.get(data.channel)
    if provider is None:
        raise InvalidInput(f"Reply templates cannot be made for the channel {data.channel!r}", field="channel")
    if options.channels and data.channel not in options.channels:
        raise InvalidInput(f"Your company may not send on {provider.label}; ask your provider", field="channel")
    keywords = keywords_of(data.keywords)
    if not keywords:
        raise InvalidInput(N_("Give at least one keyword"), field="keywords")
    if any(len(k) > MAX_KEYWORD for k in keywords):
        raise InvalidInput(f"A keyword is longer than {MAX_KEYWORD} characters", field="keywords")
    if not data.text.strip() and data.action == "none":
        raise InvalidInput(N_("Write a reply, or choose what to do with the contact"), field="text")
    await check_variables(actor, data.text)
    if data.group_id is not None:
        try:
            await own_groups(actor, [data.group_id])
        except NotFound:
            raise InvalidInput(N_("Choose one of your contact groups"), field="group_id") from None
    return keywords


async def _name_taken(actor: Actor, name: str, *, besides: int | None = None) -> None:
    where = owned(ReplyTemplate, actor) & _same_name(name)
    if besides is not None:
        where &= ReplyTemplate.id != besides
    if await ReplyTemplate.exists().where(where):
        raise _taken(name)


async def create_reply(actor: Actor, data: ReplyCreate, *, ip: str = "") -> ReplyView:
    name = data.name.strip()
    keywords = await _check(actor, data)
    now = datetime.now(UTC)
    with unique_or(_taken(name)):
        async with write_transaction():
            await _name_taken(actor, name)
            rows = await ReplyTemplate.insert(
                ReplyTemplate(
                    partner=actor.partner_id,
                    channel=data.channel,
                    name=name,
                    keywords=",".join(keywords),
                    priority=data.priority,
                    text=data.text.strip(),
                    action=data.action,
                    group_id=data.group_id if data.action != "none" else None,
                    created_at=now,
                    updated_at=now,
                )
            ).returning(ReplyTemplate.id)
            reply_id = rows[0]["id"]
            await audit.record(
                actor,
                "reply.create",
                f"Created reply template {name!r}",
                object_type="reply",
                object_id=reply_id,
                ip=ip,
                name=name,
            )
    return await get_reply(actor, reply_id)


async def update_reply(actor: Actor, reply_id: int, data: ReplyUpdate, *, ip: str = "") -> ReplyView:
    row = await _own(actor, reply_id)
    merged = ReplyCreate(
        name=row["name"] if data.name is UNSET else data.name,
        channel=row["channel"],
        keywords=row["keywords"] if data.keywords is UNSET else data.keywords,
        priority=row["priority"] if data.priority is UNSET else data.priority,
        text=row["text"] if data.text is UNSET else data.text,
        action=row["action"] if data.action is UNSET else data.action,
        group_id=row["group_id"] if data.group_id is UNSET else data.group_id,
    )
    name = merged.name.strip()
    keywords = await _check(actor, merged)
    with unique_or(_taken(name)):
        async with write_transaction():
            await _name_taken(actor, name, besides=reply_id)
            await ReplyTemplate.update(
                {
                    ReplyTemplate.name: name,
                    ReplyTemplate.keywords: ",".join(keywords),
                    ReplyTemplate.priority: merged.priority,
                    ReplyTemplate.text: merged.text.strip(),
                    ReplyTemplate.action: merged.action,
                    ReplyTemplate.group_id: merged.group_id if merged.action != "none" else None,
                    ReplyTemplate.updated_at: datetime.now(UTC),
                }
            ).where((ReplyTemplate.id == reply_id) & owned(ReplyTemplate, actor))
            await audit.record(
                actor,
                "reply.update",
                f"Changed reply template {name!r}",
                object_type="reply",
                object_id=reply_id,
                ip=ip,
                name=row["name"],
                changed=audit.changes(
                    {
                        "name": row["name"],
                        "keywords": row["keywords"],
                        "priority": row["priority"],
                        "text": row["text"],
                        "action": row["action"],
                    },
                    {
                        "name": name,
                        "keywords": ",".join(keywords),
                        "priority": merged.priority,
                        "text": merged.text.strip(),
                        "action": merged.action,
                    },
                ),
            )
    return await get_reply(actor, reply_id)


async def delete_reply(actor: Actor, reply_id: int, *, ip: str = "") -> None:
    row = await _own(actor, reply_id)
    async with write_transaction():
        await ReplyTemplate.delete().where((ReplyTemplate.id == reply_id) & owned(ReplyTemplate, actor))
        await audit.record(
            actor,
            "reply.delete",
            f"Deleted reply template {row['name']!r}",
            object_type="reply",
            object_id=reply_id,
            ip=ip,
            name=row["name"],
        )
