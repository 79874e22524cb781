"""Tenancy services: partners and portals, always scoped to the acting user's part of the tree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import UNSET
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.query import Select

from core.actor import Actor
from core.db import icontains, json_value, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.money import from_micros, to_micros
from core.plugins import registries
from core.tenancy import audit, short_domains
from core.tenancy.schemas import (
    PartnerCreate,
    PartnerOptions,
    PartnerUpdate,
    PartnerView,
    PortalCreate,
    PortalUpdate,
    PortalView,
    RegistrationField,
)
from core.tenancy.scope import (
    depth_of,
    in_subtree,
    managed_partner,
    path_segment,
    require_admin,
    require_manager,
    visible_partner,
)
from core.tenancy.tables import Partner, PortalHost, PortalRecord
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from core.web.themes import themes_for


def partner_view(row: dict[str, Any]) -> PartnerView:
    return PartnerView(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row["parent"],
        depth=depth_of(row["path"]),
        currency=row["currency"],
        balance=from_micros(row["balance"]),
        credit_limit=from_micros(row["credit_limit"]),
        options=msgspec.convert(json_value(row["options"]), PartnerOptions),
        blocked=row["blocked"],
        portal_id=row["portal_id"],
        created_at=row["created_at"],
    )


def same_name(name: str) -> WhereRaw:
    """Partner names are unique among siblings regardless of case."""
    return WhereRaw("lower(partner.name) = {}", name.lower())


def _check_channels(options: PartnerOptions) -> None:
    known = registries().channels
    for channel in options.channels:
        if channel not in known:
            raise InvalidInput(
                f"Unknown channel {channel!r}; known: {', '.join(known.names()) or 'none'}", field="options.channels"
            )


async def _check_portal(actor: Actor, portal_id: int | None) -> None:
    if portal_id is not None:
        await get_portal(actor, portal_id)


async def list_partners(
    actor: Actor,
    *,
    query: str = "",
    kind: str = "",
    blocked: bool | None = None,
    parent_id: int | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[PartnerView]:
    """The actor's subtree, depth-first, filtered and paginated."""
    require_manager(actor)
    where = in_subtree(actor)
    if query:
        where &= icontains(Partner.name, query)
    if kind:
        where &= Partner.kind == kind
    if blocked is not None:
        where &= Partner.blocked == blocked
    if parent_id is not None:
        where &= Partner.parent == parent_id
    found = await paginate(Partner.select().order_by(Partner.path), where, page=page, per_page=per_page)
    return found.with_items([partner_view(r) for r in found.items])


async def get_partner(actor: Actor, partner_id: int) -> PartnerView:
    return partner_view(await visible_partner(actor, partner_id))


async def partner_names(actor: Actor) -> dict[int, str]:
    """Id → name of every partner that may own or use a portal in the actor's subtree (for pickers)."""
    rows = await Partner.select(Partner.id, Partner.name).where(in_subtree(actor) & (Partner.kind != "end_user"))
    return {r["id"]: r["name"] for r in rows}


async def create_partner(actor: Actor, data: PartnerCreate, *, ip: str = "") -> PartnerView:
    require_manager(actor)
    require_admin(actor, "create partners")
    parent = await visible_partner(actor, data.parent_id or actor.partner_id)
    if parent["kind"] == "end_user":
        raise InvalidInput("An end-user company cannot have partners under it", field="parent_id")
    if parent["blocked"]:
        raise Conflict("The parent partner is blocked")
    _check_channels(data.options)
    data.options.shortener_domains = await short_domains.check_grants(parent["path"], data.options.shortener_domains)
    portal_id = data.portal_id
    if portal_id is None:
        own = await PortalRecord.select(PortalRecord.id).where(PortalRecord.partner == parent["id"]).first()
        portal_id = own["id"] if own else parent["portal_id"]
    await _check_portal(actor, portal_id)
    async with write_transaction():
        partner_id = await insert_partner(parent, data, portal_id)
        await audit.record(
            actor,
            "partner.create",
            f"Created {data.kind.replace('_', ' ')} {data.name!r} under {parent['name']}",
            object_type="partner",
            object_id=partner_id,
            ip=ip,
            name=data.name,
            variant=data.kind,
            params={"parent": parent["name"]},
        )
    return await get_partner(actor, partner_id)


async def insert_partner(
    parent: dict[str, Any], data: PartnerCreate, portal_id: int | None, *, unique_name: bool = True
) -> int:
    """Add a partner under ``parent`` (a row the caller may use); call inside ``write_transaction()``.

    ``unique_name=False`` is for self sign-up: refusing a taken company name there would tell strangers which
    companies are clients, so two self-registered companies may share a name (their ids tell them apart).

    Raises:
        Conflict: a sibling already has this name (case-insensitive), when ``unique_name``.
    """
    if unique_name and await Partner.exists().where((Partner.parent == parent["id"]) & same_name(data.name)):
        raise Conflict(f"A partner named {data.name!r} already exists under {parent['name']}", field="name")
    row = Partner(
        name=data.name,
        kind=data.kind,
        parent=parent["id"],
        path=parent["path"],
        currency=data.currency or parent["currency"],
        credit_limit=to_micros(data.credit_limit),
        options=msgspec.to_builtins(data.options),
        portal_id=portal_id,
        created_at=datetime.now(UTC),
    )
    await row.save()
    await Partner.update({Partner.path: parent["path"] + path_segment(row.id)}).where(Partner.id == row.id)
    return row.id


async def _partner_values(current: dict[str, Any], changes: dict[Any, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A partner's changed fields before and after, as the audit log shows them (options one by one)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    portals: dict[int, str] = {}
    wanted = [p for p in (current["portal_id"], changes.get(Partner.portal_id)) if p]
    if Partner.portal_id in changes and wanted:
        rows = await PortalRecord.select(PortalRecord.id, PortalRecord.brand_name).where(PortalRecord.id.is_in(wanted))
        portals = {r["id"]: r["brand_name"] for r in rows}
    for column, value in changes.items():
        key = column._meta.name
        if key == "credit_limit":
            before[key] = audit.money(current["credit_limit"], current["currency"])
            after[key] = audit.money(value, current["currency"])
        elif key == "options":
            old_options = json_value(current["options"]) or {}
            for option, option_value in value.items():
                before[option], after[option] = old_options.get(option), option_value
        elif key == "portal_id":
            before["portal"] = portals.get(current["portal_id"]) if current["portal_id"] else None
            after["portal"] = portals.get(value) if value else None
        else:
            before[key], after[key] = current[key], value
    return before, after


async def update_partner(actor: Actor, partner_id: int, data: PartnerUpdate, *, ip: str = "") -> PartnerView:
    require_manager(actor)
    # Names, credit limits, options and blocking alike: an operator may look, not change (ACC-7).
    require_admin(actor, "change partners")
    current = await managed_partner(actor, partner_id)
    changes: dict[Any, Any] = {}
    if data.name is not UNSET and data.name != current["name"]:
        clash = await Partner.exists().where(
            (Partner.parent == current["parent"]) & same_name(data.name) & (Partner.id != partner_id)
        )
        if clash:
            raise Conflict(f"A partner named {data.name!r} already exists at that place", field="name")
        changes[Partner.name] = data.name
    if data.credit_limit is not UNSET:
        changes[Partner.credit_limit] = to_micros(data.credit_limit)
    if data.options is not UNSET:
        _check_channels(data.options)
        parent_path = current["path"].removesuffix(path_segment(partner_id))
        data.options.shortener_domains = await short_domains.check_grants(
            parent_path, data.options.shortener_domains, short_domains.granted_hosts(current["options"])
        )
        changes[Partner.options] = msgspec.to_builtins(data.options)
    if data.blocked is not UNSET:
        changes[Partner.blocked] = data.blocked
    if data.portal_id is not UNSET:
        await _check_portal(actor, data.portal_id)
        changes[Partner.portal_id] = data.portal_id
    if changes:
        async with write_transaction():
            await Partner.update(changes).where(Partner.id == partner_id)
            fields = sorted(column._meta.name for column in changes)
            changed = audit.changes(*await _partner_values(current, changes))
            if data.blocked is not UNSET and data.blocked != current["blocked"]:
                action = "partner.block" if data.blocked else "partner.unblock"
                summary = f"{'Blocked' if data.blocked else 'Unblocked'} {current['name']}"
                changed = [change for change in changed if change["field"] != "blocked"]
            else:
                action, summary = "partner.update", f"Changed {', '.join(fields)} of {current['name']}"
            await audit.record(
                actor,
                action,
                summary,
                object_type="partner",
                object_id=partner_id,
                details={"fields": fields},
                ip=ip,
                name=current["name"],
                changed=changed,
            )
    return await get_partner(actor, partner_id)


def _portal_view(row: dict[str, Any], hosts: list[str]) -> PortalView:
    return PortalView(
        id=row["id"],
        slug=row["slug"],
        brand_name=row["brand_name"],
        hosts=hosts,
        partner_id=row["partner"],
        partner_name=row["partner_name"],
        theme=row["theme"],
        default_language=row["default_language"],
        languages=json_value(row["languages"]),
        self_registration=row["self_registration"],
        require_2fa=row["require_2fa"],
        terms_url=row["terms_url"],
        privacy_url=row["privacy_url"],
        consent_text=row["consent_text"],
        help_email=row["help_email"],
        registration_fields=msgspec.convert(json_value(row["registration_fields"]), list[RegistrationField]),
        created_at=row["created_at"],
    )


def _portal_select() -> Select:
    return PortalRecord.select(
        *PortalRecord.all_columns(), PortalRecord.partner.name.as_alias("partner_name")
    ).order_by(PortalRecord.id)


async def _portal_views(rows: list[dict[str, Any]]) -> list[PortalView]:
    hosts: dict[int, list[str]] = {r["id"]: [] for r in rows}
    if hosts:
        for h in await PortalHost.select().where(PortalHost.portal.is_in(list(hosts))).order_by(PortalHost.id):
            hosts[h["portal"]].append(h["host"])
    return [_portal_view(r, hosts[r["id"]]) for r in rows]


async def list_portals(
    actor: Actor, *, query: str = "", page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[PortalView]:
    require_manager(actor)
    where = in_subtree(actor, PortalRecord.partner.path)
    if query:
        where &= icontains(PortalRecord.brand_name, query) | icontains(PortalRecord.slug, query)
    found = await paginate(_portal_select(), where, page=page, per_page=per_page)
    return found.with_items(await _portal_views(found.items))


async def get_portal(actor: Actor, portal_id: int) -> PortalView:
    rows = await _portal_views(
        await _portal_select().where((PortalRecord.id == portal_id) & in_subtree(actor, PortalRecord.partner.path))
    )
    if not rows:
        raise NotFound("Portal")
    return rows[0]


async def _check_hosts(hosts: list[str], portal_id: int | None) -> list[str]:
    unique = list(dict.fromkeys(h.lower() for h in hosts))
    where: Combinable = PortalHost.host.is_in(unique)
    if portal_id is not None:
        where &= PortalHost.portal != portal_id
    taken = await PortalHost.select(PortalHost.host).where(where)
    if taken:
        raise Conflict(f"Host name {taken[0]['host']!r} already belongs to another portal", field="hosts")
    return unique


def _check_theme(actor: Actor, theme: str, portal_slug: str) -> None:
    allowed = themes_for(any_theme=actor.partner_kind == "owner", portal_slug=portal_slug)
    if theme not in allowed:
        raise InvalidInput(f"Unknown theme {theme!r}; available: {', '.join(allowed)}", field="theme")


def _check_languages(default_language: str, languages: Sequence[str]) -> None:
    if default_language not in languages:
        raise InvalidInput("The default language must be one of the offered languages", field="default_language")


async def create_portal(actor: Actor, data: PortalCreate, *, ip: str = "") -> PortalView:
    require_manager(actor)
    require_admin(actor, "create portals")
    owner = await visible_partner(actor, data.partner_id or actor.partner_id)
    if owner["kind"] == "end_user":
        raise InvalidInput("Only the owner or a reseller can own a portal", field="partner_id")
    _check_theme(actor, data.theme, data.slug)
    _check_languages(data.default_language, data.languages)
    async with write_transaction():
        if await PortalRecord.exists().where(PortalRecord.slug == data.slug):
            raise Conflict(f"The slug {data.slug!r} is taken", field="slug")
        hosts = await _check_hosts(data.hosts, None)
        fields = msgspec.to_builtins(data)
        fields.pop("hosts"), fields.pop("partner_id")
        row = PortalRecord(**fields, partner=owner["id"], created_at=datetime.now(UTC))
        await row.save()
        await PortalHost.insert(*[PortalHost(portal=row.id, host=h) for h in hosts])
        await audit.record(
            actor,
            "portal.create",
            f"Created portal {data.brand_name!r} ({', '.join(hosts)})",
            object_type="portal",
            object_id=row.id,
            ip=ip,
            name=data.brand_name,
            params={"hosts": ", ".join(hosts)},
        )
    forget_portal_cache()
    return await get_portal(actor, row.id)


async def update_portal(actor: Actor, portal_id: int, data: PortalUpdate, *, ip: str = "") -> PortalView:
    require_manager(actor)
    require_admin(actor, "change portal settings")
    current = await get_portal(actor, portal_id)
    fields = msgspec.to_builtins(data)  # omit_defaults: only what the request set
    changes = {k: v for k, v in fields.items() if k != "hosts"}
    if "theme" in changes and changes["theme"] != current.theme:
        _check_theme(actor, changes["theme"], current.slug)
    _check_languages(
        changes.get("default_language", current.default_language), changes.get("languages", current.languages)
    )
    async with write_transaction():
        if data.hosts is not UNSET:
            hosts = await _check_hosts(data.hosts, portal_id)
            await PortalHost.delete().where(PortalHost.portal == portal_id)
            await PortalHost.insert(*[PortalHost(portal=portal_id, host=h) for h in hosts])
        if changes:
            await PortalRecord.update({getattr(PortalRecord, k): v for k, v in changes.items()}).where(
                PortalRecord.id == portal_id
            )
        changed = sorted([*changes, *(["hosts"] if data.hosts is not UNSET else [])])
        await audit.record(
            actor,
            "portal.update",
            f"Changed {', '.join(changed) or 'nothing'} of {current.brand_name}",
            object_type="portal",
            object_id=portal_id,
            details={"fields": changed},
            ip=ip,
            name=current.brand_name,
            changed=audit.changes(
                {key: value for key, value in msgspec.to_builtins(current).items() if key in changed},
                {**changes, **({"hosts": hosts} if data.hosts is not UNSET else {})},
            ),
        )
    forget_portal_cache()
    return await get_portal(actor, portal_id)


def forget_portal_cache() -> None:
    from core.tenancy.resolver import resolver

    resolver.clear()
