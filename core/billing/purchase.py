"""Purchase (BIL-8): the catalogue of the parent's packs and plans, buying a pack, and the packs a partner holds.

The catalogue of a partner is its parent's enabled offers inside their purchase window, in its own currency; a
purchase is a held pack of the buying partner, paid by one conditional balance debit and its "Pack purchase"
ledger row in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.custom_types import Combinable

from core.actor import Actor
from core.billing import rates
from core.billing.pack_schemas import (
    CataloguePlan,
    CatalogueSort,
    HeldPackView,
    HeldStatus,
    OrderView,
    OwnPlan,
    PackView,
    PricingRequestIn,
)
from core.billing.packs import OFFER_COLUMNS, country_names, offer_views
from core.billing.services import change_balance
from core.billing.tables import HeldPack, LedgerEntry, Pack, PlanAssignment, Rate, RatePlan
from core.db import icontains, json_value, must_exist, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.money import format_money, from_micros, to_micros
from core.tenancy import audit
from core.tenancy import requests as chain
from core.tenancy.scope import in_subtree, managed_partner, of_visible_partner, owned, require_admin, require_manager
from core.tenancy.tables import Partner
from core.web.i18n import N_
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

REQUEST_KIND = "pricing"
_TOKEN_WINDOW = timedelta(days=1)  # how long a repeated submit with the same token returns the first purchase
_SORTS: dict[str, tuple[Any, bool]] = {
    "newest": (Pack.id, False),
    "price": (Pack.price, True),
    "-price": (Pack.price, False),
    "name": (Pack.name, True),
}


def parent_of(actor: Actor) -> int | None:
    """The id of the partner right above the actor's, from its path; None for the owner."""
    segments = actor.partner_path.strip("/").split("/")
    return int(segments[-2]) if len(segments) > 1 else None


def held_status(row: dict[str, Any], now: datetime) -> HeldStatus:
    if row["remaining"] <= 0:
        return "spent"
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return "expired"
    return "active"


def _held_view(row: dict[str, Any], now: datetime) -> HeldPackView:
    return HeldPackView(
        id=row["id"],
        partner_id=row["partner"],
        offer_id=row["pack_id"],
        name=row["name"],
        channel=row["channel"],
        country_iso=row["country_iso"],
        networks=list(json_value(row["networks"]) or []),
        mode=row["mode"],
        messages=row["messages"],
        remaining=row["remaining"],
        price=from_micros(row["price"]),
        currency=row["currency"],
        purchased_at=row["purchased_at"],
        expires_at=row["expires_at"],
        status=held_status(row, now),
        ledger_entry_id=row["ledger_entry_id"],
    )


def _offered_now(parent_id: int, currency: str, now: datetime) -> Combinable:
    return (
        (Pack.partner == parent_id)
        & (Pack.enabled == True)  # noqa: E712 -- a piccolo column comparison, not a truth test
        & (Pack.currency == currency)
        & (Pack.available_from.is_null() | (Pack.available_from <= now))
        & (Pack.available_until.is_null() | (Pack.available_until > now))
    )


async def catalogue(
    actor: Actor,
    *,
    query: str = "",
    channel: str = "",
    country: str = "",
    mode: str = "",
    sort: CatalogueSort = "newest",
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[PackView]:
    """The packs the actor's parent offers now, in the actor's currency."""
    parent = parent_of(actor)
    if parent is None:
        return Page(items=[], total=0, page=page, per_page=per_page)
    where: Combinable = _offered_now(parent, actor.currency, datetime.now(UTC))
    if channel:
        where &= Pack.channel == channel
    if country.strip():
        where &= Pack.country_iso == country.strip().upper()
    if mode:
        where &= Pack.mode == mode
    if query.strip():
        where &= icontains(Pack.name, query.strip())
    column, ascending = _SORTS.get(sort, _SORTS["newest"])
    found = await paginate(
        Pack.select(*OFFER_COLUMNS).order_by(column, ascending=ascending).order_by(Pack.id, ascending=False),
        where,
        page=page,
        per_page=per_page,
    )
    return found.with_items(await offer_views(found.items))


async def catalogue_countries(actor: Actor) -> dict[str, str]:
    """ISO → name of the countries the parent's current offers cover, for the catalogue's filter."""
    parent = parent_of(actor)
    if parent is None:
        return {}
    rows = await Pack.select(Pack.country_iso).where(_offered_now(parent, actor.currency, datetime.now(UTC)))
    names = await country_names({r["country_iso"] for r in rows})
    return dict(sorted(names.items(), key=lambda item: item[1]))


async def catalogue_plans(actor: Actor, *, channel: str = "", query: str = "") -> list[CataloguePlan]:
    """The parent's rate plans the actor may pick itself (and the ones it uses), in the actor's currency, each with
    the countries it has rates for. The parent's other plans may be meant for other clients: they are not shown."""
    parent = parent_of(actor)
    if parent is None:
        return []
    current = {r["plan"] for r in await PlanAssignment.select(PlanAssignment.plan).where(owned(PlanAssignment, actor))}
    shown: Combinable = RatePlan.selectable.eq(True)
    if current:
        shown |= RatePlan.id.is_in(sorted(current))
    where = (RatePlan.partner == parent) & (RatePlan.currency == actor.currency) & shown
    if channel:
        where &= RatePlan.channel == channel
    if query.strip():
        where &= icontains(RatePlan.name, query.strip())
    plans = await RatePlan.select().where(where).order_by(RatePlan.channel).order_by(RatePlan.name)
    countries: dict[int, set[str]] = {}
    if plans:
        for r in await Rate.select(Rate.plan, Rate.country_iso).where(Rate.plan.is_in([p["id"] for p in plans])):
            countries.setdefault(r["plan"], set()).add(r["country_iso"])
    return [
        CataloguePlan(
            id=p["id"],
            name=p["name"],
            channel=p["channel"],
            mode=p["mode"],
            currency=p["currency"],
            countries=sorted(countries.get(p["id"], set())),
            current=p["id"] in current,
            selectable=p["selectable"],
        )
        for p in plans
    ]


async def select_plan(actor: Actor, plan_id: int, *, ip: str = "") -> OwnPlan:
    """Make a plan the parent lets its partners pick the actor's plan for its channel (BIL-8), replacing the one
    it had: the same rule (``rates.put_on_plan``) as when the parent assigns it.

    Raises:
        NotFound: not a plan the actor's parent offers for picking (other plans are not the actor's to see).
        Forbidden: an operator.
    """
    parent = parent_of(actor)
    plan = None
    if parent is not None:
        plan = (
            await RatePlan.select(*rates.PLAN_COLUMNS)
            .where((RatePlan.id == plan_id) & (RatePlan.partner == parent) & RatePlan.selectable.eq(True))
            .where(RatePlan.currency == actor.currency)
            .first()
        )
    if plan is None:
        raise NotFound("Rate plan")
    require_admin(actor, "select rate plans")
    partner = must_exist(await Partner.select().where(Partner.id == actor.partner_id).first())
    await rates.put_on_plan(actor, plan, partner, ip=ip)
    return next(p for p in await own_plans(actor) if p.channel == plan["channel"])


async def own_plans(actor: Actor) -> list[OwnPlan]:
    """The rate plans the actor's partner uses, one per channel."""
    rows = (
        await PlanAssignment.select(
            PlanAssignment.plan,
            PlanAssignment.channel,
            PlanAssignment.assigned_at,
            PlanAssignment.plan.name.as_alias("name"),
            PlanAssignment.plan.mode.as_alias("mode"),
        )
        .where(owned(PlanAssignment, actor))
        .order_by(PlanAssignment.channel)
    )
    return [
        OwnPlan(plan_id=r["plan"], name=r["name"], channel=r["channel"], mode=r["mode"], assigned_at=r["assigned_at"])
        for r in rows
    ]


async def list_held(actor: Actor, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> Page[HeldPackView]:
    """The packs the actor's partner holds, newest first (active, expired and spent)."""
    where = owned(HeldPack, actor)
    found = await paginate(
        HeldPack.select().order_by(HeldPack.purchased_at, ascending=False).order_by(HeldPack.id, ascending=False),
        where,
        page=page,
        per_page=per_page,
    )
    now = datetime.now(UTC)
    return found.with_items([_held_view(r, now) for r in found.items])


async def catalogue_offer(actor: Actor, offer_id: int) -> PackView:
    """One offer of the actor's parent (404 for any other); 409 when it is no longer offered."""
    parent = parent_of(actor)
    row = await Pack.select(*OFFER_COLUMNS).where((Pack.id == offer_id) & (Pack.partner == parent)).first()
    if parent is None or row is None:
        raise NotFound("Pack")
    if not await Pack.exists().where((Pack.id == offer_id) & _offered_now(parent, actor.currency, datetime.now(UTC))):
        raise Conflict("This pack is no longer offered", field="offer_id")
    return (await offer_views([row]))[0]


async def order(actor: Actor, offer_id: int) -> OrderView:
    """The order summary of one of the parent's offers: the price and the balance before and after buying it."""
    offer = await catalogue_offer(actor, offer_id)
    row = must_exist(
        await Partner.select(Partner.balance, Partner.credit_limit).where(Partner.id == actor.partner_id).first()
    )
    after = row["balance"] - to_micros(offer.price)
    return OrderView(
        offer=offer,
        balance=from_micros(row["balance"]),
        balance_after=from_micros(after),
        covered=after >= -row["credit_limit"],
    )


async def _bought_with(partner_id: int, token: str, now: datetime) -> dict[str, Any] | None:
    """The held pack an earlier purchase with this token made, within the token window."""
    entries = await LedgerEntry.select(LedgerEntry.id, LedgerEntry.details).where(
        (LedgerEntry.partner == partner_id)
        & (LedgerEntry.kind == "pack")
        & (LedgerEntry.created_at >= now - _TOKEN_WINDOW)
    )
    ids = [e["id"] for e in entries if (json_value(e["details"]) or {}).get("token") == token]
    if not ids:
        return None
    return await HeldPack.select().where(HeldPack.ledger_entry_id == ids[0]).first()


async def buy_pack(actor: Actor, offer_id: int, *, token: str = "", ip: str = "") -> HeldPackView:
    """Buy one of the parent's packs: debit the price, write its ledger row and hold the pack, all or nothing.

    A repeated call with the same non-empty ``token`` returns the first purchase instead of buying again.

    Raises:
        NotFound: the offer is not the parent's.
        Conflict: it is no longer offered, or the balance and credit limit do not cover the price.
    """
    require_admin(actor, "buy packs")
    offer = await catalogue_offer(actor, offer_id)
    price = to_micros(offer.price)
    now = datetime.now(UTC)
    async with write_transaction():
        if token:
            # Hold the buyer's row (the debit below takes the same lock): a second submit with this token waits
            # here for the first to commit, then finds its purchase.
            await Partner.raw("UPDATE partner SET balance = balance WHERE id = {}", actor.partner_id)
            if (earlier := await _bought_with(actor.partner_id, token, now)) is not None:
                return _held_view(earlier, now)
        entry_id = await change_balance(
            actor.partner_id,
            -price,
            kind="pack",
            description=f"Pack purchase: {offer.name}",
            initiator=actor,
            details={"offer_id": offer.id, "messages": offer.messages, "channel": offer.channel, "token": token},
        )
        held = HeldPack(
            partner=actor.partner_id,
            pack_id=offer.id,
            name=offer.name,
            channel=offer.channel,
            country_iso=offer.country_iso,
            networks=offer.networks,
            mode=offer.mode,
            messages=offer.messages,
            remaining=offer.messages,
            price=price,
            currency=offer.currency,
            purchased_at=now,
            expires_at=now + timedelta(days=offer.validity_days) if offer.validity_days else None,
            ledger_entry_id=entry_id,
            initiator_email=actor.email,
        )
        await held.save()
        await audit.record(
            actor,
            "pack.buy",
            f"Bought pack {offer.name!r} ({offer.messages} messages) for {format_money(price, offer.currency)}",
            object_type="pack_purchase",
            object_id=held.id,
            details={"offer_id": offer.id, "ledger_entry_id": entry_id},
            ip=ip,
            name=offer.name,
            params={"price": audit.money(price, offer.currency), "count": offer.messages},
        )
    return _held_view(must_exist(await HeldPack.select().where(HeldPack.id == held.id).first()), now)


# A client's packs in the Admin Panel --------------------------------------------------------------------------
async def partner_packs(actor: Actor, partner_id: int) -> list[HeldPackView]:
    """The packs a visible partner holds, newest first, for the Admin Panel's partner page."""
    require_manager(actor)
    where = await of_visible_partner(actor, HeldPack, partner_id)
    rows = await HeldPack.select().where(where).order_by(HeldPack.id, ascending=False)
    now = datetime.now(UTC)
    return [_held_view(r, now) for r in rows]


async def remove_pack(actor: Actor, held_id: int, *, ip: str = "") -> HeldPackView:
    """End a client's pack now, for a partner above it (clients cannot end their own), refunding its unused units.

    The refund is the price's share of the units left at this moment; units a batch holds and gives back later
    return to the ended pack, which no longer pays for anything.

    Raises:
        NotFound: the pack is not of a partner in the actor's subtree.
        Forbidden: it is the actor's own partner's.
        Conflict: it has already ended (expired or removed).
    """
    require_manager(actor)
    row = (
        await HeldPack.select(*HeldPack.all_columns(), HeldPack.partner.name.as_alias("partner_name"))
        .where((HeldPack.id == held_id) & in_subtree(actor, HeldPack.partner.path))
        .first()
    )
    if row is None:
        raise NotFound("Pack")
    await managed_partner(actor, row["partner"])
    require_admin(actor, "remove packs")
    now = datetime.now(UTC)
    async with write_transaction():
        ended = await HeldPack.raw(
            "UPDATE pack_purchase SET expires_at = {} WHERE id = {} AND (expires_at IS NULL OR expires_at > {}) "
            "RETURNING remaining",
            now,
            held_id,
            now,
        )
        if not ended:
            raise Conflict("This pack has already ended", field="held_id")
        unused = max(int(ended[0]["remaining"]), 0)
        refund = row["price"] * unused // max(row["messages"], 1)
        if refund:
            await change_balance(
                row["partner"],
                refund,
                kind="pack",
                description=f"Pack removed: {row['name']}",
                initiator=actor,
                details={"held_pack_id": held_id, "offer_id": row["pack_id"], "messages_unused": unused},
            )
        await audit.record(
            actor,
            "pack.remove",
            f"Removed pack {row['name']!r} of {row['partner_name']}, refunding {format_money(refund, row['currency'])}",
            object_type="partner",
            object_id=row["partner"],
            details={"held_pack_id": held_id, "refund_micros": refund},
            ip=ip,
            name=row["partner_name"],
            params={"pack": row["name"], "amount": audit.money(refund, row["currency"])},
        )
    return _held_view(must_exist(await HeldPack.select().where(HeldPack.id == held_id).first()), now)


# Asking the parent for plans or packs (BIL-8) ------------------------------------------------------------------
def register() -> None:
    """Tie the "rate plans and packs" kind into the one request chain (called at start-up); the parent answers it
    by assigning a plan or offering packs, so confirming it changes nothing by itself."""
    chain.register_kind(chain.RequestKind(name=REQUEST_KIND, label=N_("Rate plans and packs"), on_confirmed=_noted))


async def _noted(_: Any) -> None:
    return None


async def ask_for_pricing(actor: Actor, data: PricingRequestIn) -> int:
    """Send the parent partner a request for rate plans or packs; returns the request's id."""
    require_admin(actor, "ask for rate plans and packs")
    comment = data.comment.strip()
    if len(comment) < 3:
        raise InvalidInput("comment: at least 3 characters", field="comment")
    async with write_transaction():
        return await chain.create_request(actor, kind=REQUEST_KIND, subject=comment[:120], payload={"comment": comment})
