"""Pack offers (BIL-3): the packs a partner (the owner or a reseller) offers to the partners right below it.

Scoping: an offer belongs to the partner that makes it (``partner_path`` is a copy of its path); the Admin Panel
reaches the offers of the actor's own partner and its descendants, as with rate plans. Buying one is in
``core.billing.purchase``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

from core.actor import Actor
from core.billing.pack_schemas import PackCreate, PackUpdate, PackView
from core.billing.tables import Pack
from core.db import icontains, json_value, write_transaction
from core.errors import InvalidInput, NotFound
from core.money import from_micros, to_micros
from core.numbering.tables import Country, Network
from core.plugins import registries
from core.tenancy import audit
from core.tenancy.scope import in_subtree, require_admin, require_manager
from core.web.forms import convert
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

OFFER_COLUMNS = (
    *Pack.all_columns(),
    Pack.partner.name.as_alias("partner_name"),
)


def cost_per_message(price_micros: int, messages: int) -> Decimal:
    """The pack's price divided by its units, rounded to a micro-unit."""
    return from_micros(int((Decimal(price_micros) / max(messages, 1)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)))


def _offer_view(row: dict[str, Any], countries: dict[str, str]) -> PackView:
    return PackView(
        id=row["id"],
        partner_id=row["partner"],
        partner_name=row["partner_name"],
        name=row["name"],
        channel=row["channel"],
        country_iso=row["country_iso"],
        country_name=countries.get(row["country_iso"], row["country_iso"]),
        networks=list(json_value(row["networks"]) or []),
        price=from_micros(row["price"]),
        currency=row["currency"],
        messages=row["messages"],
        cost_per_message=cost_per_message(row["price"], row["messages"]),
        mode=row["mode"],
        validity_days=row["validity_days"],
        available_from=row["available_from"],
        available_until=row["available_until"],
        enabled=row["enabled"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def country_names(isos: set[str] | None = None) -> dict[str, str]:
    """ISO → name from the numbering book (all countries, or those of ``isos``)."""
    query = Country.select(Country.iso, Country.name)
    if isos is not None:
        if not isos:
            return {}
        query = query.where(Country.iso.is_in(sorted(isos)))
    return {r["iso"]: r["name"] for r in await query}


async def network_names(country_iso: str) -> dict[str, str]:
    """MCCMNC → network name of a country's networks in the numbering book (its All networks row left out)."""
    rows = await Network.select(Network.mcc, Network.mnc, Network.name).where(
        (Network.country.iso == country_iso) & (Network.mnc != "")
    )
    return {r["mcc"] + r["mnc"]: r["name"] for r in sorted(rows, key=lambda r: (r["mcc"], r["mnc"]))}


async def offer_views(rows: list[dict[str, Any]]) -> list[PackView]:
    names = await country_names({r["country_iso"] for r in rows})
    return [_offer_view(r, names) for r in rows]


# Offers (Admin Panel) -----------------------------------------------------------------------------------------
async def _visible_offer(actor: Actor, offer_id: int) -> dict[str, Any]:
    require_manager(actor)
    row = await Pack.select(*OFFER_COLUMNS).where((Pack.id == offer_id) & in_subtree(actor, Pack.partner_path)).first()
    if row is None:
        raise NotFound("Pack")
    return row


async def _check_offer(data: PackCreate) -> None:
    """The channel is registered, the country is in the numbering book and the networks are its own."""
    if data.channel not in registries().channels:
        raise InvalidInput(f"channel: unknown channel {data.channel!r}", field="channel")
    if not await Country.exists().where(Country.iso == data.country_iso):
        raise InvalidInput(f"country_iso: {data.country_iso} is not in the numbering book", field="country_iso")
    known = await network_names(data.country_iso)
    if unknown := [n for n in data.networks if n not in known]:
        raise InvalidInput(
            f"networks: {', '.join(unknown)} is not a network of {data.country_iso} in the numbering book",
            field="networks",
        )


def _columns(data: PackCreate) -> dict[Any, Any]:
    return {
        Pack.name: data.name,
        Pack.channel: data.channel,
        Pack.country_iso: data.country_iso,
        Pack.networks: sorted(set(data.networks)),
        Pack.price: to_micros(data.price),
        Pack.messages: data.messages,
        Pack.mode: data.mode,
        Pack.validity_days: data.validity_days,
        Pack.available_from: data.available_from,
        Pack.available_until: data.available_until,
        Pack.enabled: data.enabled,
    }


async def list_offers(
    actor: Actor,
    *,
    query: str = "",
    channel: str = "",
    country: str = "",
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[PackView]:
    """The offers of the actor's partner and its descendants."""
    require_manager(actor)
    where = in_subtree(actor, Pack.partner_path)
    if channel:
        where &= Pack.channel == channel
    if country.strip():
        where &= Pack.country_iso == country.strip().upper()
    if query.strip():
        where &= icontains(Pack.name, query.strip())
    found = await paginate(
        Pack.select(*OFFER_COLUMNS).order_by(Pack.partner_path).order_by(Pack.name),
        where,
        page=page,
        per_page=per_page,
    )
    return found.with_items(await offer_views(found.items))


async def get_offer(actor: Actor, offer_id: int) -> PackView:
    return (await offer_views([await _visible_offer(actor, offer_id)]))[0]


async def create_offer(actor: Actor, data: PackCreate, *, ip: str = "") -> PackView:
    """A pack offered by the actor's own partner, in its currency."""
    require_manager(actor)
    require_admin(actor, "manage packs")
    await _check_offer(data)
    now = datetime.now(UTC)
    async with write_transaction():
        row = Pack(
            partner=actor.partner_id,
            partner_path=actor.partner_path,
            currency=actor.currency,
            created_at=now,
            updated_at=now,
        )
        for column, value in _columns(data).items():
            setattr(row, column._meta.name, value)
        await row.save()
        await audit.record(
            actor,
            "pack.create",
            f"Created {data.channel} pack {data.name!r} ({data.messages} messages for {data.price} {actor.currency})",
            object_type="pack",
            object_id=row.id,
            ip=ip,
            name=data.name,
            params={"channel": data.channel},
        )
    return await get_offer(actor, row.id)


async def update_offer(actor: Actor, offer_id: int, data: PackUpdate, *, ip: str = "") -> PackView:
    """Change an offer (also turn it off or on); packs already bought keep what they were bought with."""
    current = await _visible_offer(actor, offer_id)
    require_admin(actor, "manage packs")
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    merged = {
        **{k: current[k] for k in msgspec.structs.asdict(data)},
        "networks": json_value(current["networks"]) or [],
        "price": from_micros(current["price"]),
        **changes,
    }
    full = convert(merged, PackCreate)
    await _check_offer(full)
    columns = {column: value for column, value in _columns(full).items() if column._meta.name in changes}
    async with write_transaction():
        await Pack.update({**columns, Pack.updated_at: datetime.now(UTC)}).where(Pack.id == offer_id)
        await audit.record(
            actor,
            "pack.update",
            f"Changed pack {current['name']!r}",
            object_type="pack",
            object_id=offer_id,
            ip=ip,
            name=current["name"],
            changed=audit.row_changes(
                _shown(current, current["currency"]),
                _shown({c._meta.name: v for c, v in columns.items()}, current["currency"]),
            ),
        )
    return await get_offer(actor, offer_id)


def _shown(row: dict[str, Any], currency: str) -> dict[str, Any]:
    """An offer's values as the audit log shows them: the price as money, networks as a list of MCCMNCs."""
    shown = dict(row)
    if "price" in row:
        shown["price"] = audit.money(row["price"], currency)
    if "networks" in row:
        shown["networks"] = ", ".join(json_value(row["networks"]) or [])
    return shown
