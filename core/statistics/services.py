"""EDR queries (STA-1): the acting partner's message records (a manager's: its subtree's), filtered and paged."""

from __future__ import annotations

from typing import Any

from piccolo.custom_types import Combinable
from piccolo.table import Table

from core.actor import Actor
from core.campaigns.tables import Campaign
from core.db import contains, icontains
from core.dispatch.tables import Edr
from core.errors import NotFound
from core.money import from_micros
from core.statistics.dashboard import readable_partners
from core.statistics.schemas import EdrFilter, EdrView
from core.web.pagination import Page, paginate


def scope(actor: Actor, table: type[Table] = Edr) -> Combinable:
    """``table``'s rows of the partners whose records the actor reads (the dashboard's rule)."""
    partner: Any = table._meta.get_column_by_name("partner")
    return partner.is_in(readable_partners(actor))


async def _campaign_names(actor: Actor, ids: set[int]) -> dict[int, tuple[int, str]]:
    """The campaigns' ids as users know them and their names: a cascade's later step is its first campaign (CMP-7)."""
    if not ids:
        return {}
    rows = await Campaign.select(Campaign.id, Campaign.root_id, Campaign.name).where(
        scope(actor, Campaign) & Campaign.id.is_in(sorted(ids))
    )
    return {r["id"]: (r["root_id"] or r["id"], r["name"]) for r in rows}


def _view(row: dict[str, Any], names: dict[int, tuple[int, str]], currency: str) -> EdrView:
    campaign = names.get(row["campaign"]) if row["campaign"] is not None else None
    return EdrView(
        id=row["id"],
        partner_id=row["partner"],
        campaign_id=campaign[0] if campaign else row["campaign"],
        campaign_name=campaign[1] if campaign else "",
        transaction_id=row["transaction_id"],
        channel=row["channel"],
        sender=row["sender"],
        destination=row["destination"],
        text=row["text"],
        parts=row["parts"],
        country_iso=row["country_iso"],
        country=row["country"],
        network=row["network"],
        mccmnc=row["mccmnc"],
        rate=from_micros(row["rate"]) if row["rate"] is not None else None,
        price=from_micros(row["price"]),
        currency=currency,
        status=row["status"],
        error=row["error"],
        vendor_status=row["vendor_status"],
        vendor_message_id=row["vendor_message_id"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        done_at=row["done_at"],
    )


def edr_where(actor: Actor, f: EdrFilter) -> Combinable:
    """The one reading of an EDR filter, for the table, the API and exports: always inside the actor's partner."""
    where: Combinable = scope(actor)
    if f.client_id is not None:
        # Inside the scope above, so another tenant's id only finds nothing.
        where &= Edr.partner == f.client_id
    if f.source == "campaign":
        where &= Edr.campaign.is_not_null()
    elif f.source == "api":
        where &= Edr.campaign.is_null()
    if f.status:
        where &= Edr.status == f.status.upper()
    if f.channel:
        where &= Edr.channel == f.channel
    if f.campaign_id is not None:
        # A cascade's campaign has its later steps' messages too (CMP-7): campaigns of their own, under its id.
        steps = Campaign.select(Campaign.id).where((Campaign.id == f.campaign_id) | (Campaign.root_id == f.campaign_id))
        where &= Edr.campaign.is_in(steps)
    digits = "".join(ch for ch in f.recipient if ch.isdigit())
    if digits:
        where &= contains(Edr.destination, digits)
    if f.sender.strip():
        where &= Edr.sender == f.sender.strip()
    if f.transaction_id.strip():
        where &= Edr.transaction_id == f.transaction_id.strip()
    country = f.country.strip()
    if len(country) == 2:
        where &= Edr.country_iso == country.upper()
    elif country:
        where &= icontains(Edr.country, country)
    if f.network.strip():
        where &= icontains(Edr.network, f.network.strip())
    if f.created_from:
        where &= Edr.created_at >= f.created_from
    if f.created_to:
        where &= Edr.created_at < f.created_to
    return where


async def list_edrs(actor: Actor, f: EdrFilter) -> Page[EdrView]:
    """The actor's partner's EDRs matching the filter, newest first."""
    where = edr_where(actor, f)
    found = await paginate(Edr.select().order_by(Edr.id, ascending=False), where, page=f.page, per_page=f.per_page)
    rows = found.items
    names = await _campaign_names(actor, {r["campaign"] for r in rows if r["campaign"] is not None})
    return found.with_items([_view(r, names, actor.currency) for r in rows])


async def get_edr(actor: Actor, edr_id: int) -> EdrView:
    """One EDR of the actor's partner (a manager's subtree); any other id is a missing one (404)."""
    row = await Edr.select().where((Edr.id == edr_id) & scope(actor)).first()
    if row is None:
        raise NotFound("Message record")
    names = await _campaign_names(actor, {row["campaign"]} if row["campaign"] is not None else set())
    return _view(row, names, actor.currency)
