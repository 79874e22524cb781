"""Rate plans (BIL-2): a partner's price lists per channel, their rates, and which partner uses which plan.

Scoping: a plan belongs to the partner that offers it (``partner_path`` is a copy of its path), so an actor
reaches the plans of its own partner and its descendants. A plan is assigned only to partners below the
partner that offers it, inside the actor's subtree; a partner has at most one plan per channel.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.billing.rate_schemas import (
    AssignmentView,
    RateIn,
    RatePlanCreate,
    RatePlanUpdate,
    RatePlanView,
    RatesUploaded,
    RateUpdate,
    RateView,
    aware,
)
from core.billing.tables import PlanAssignment, Rate, RatePlan
from core.db import icontains, must_exist, starts_with, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.money import MAX_AMOUNT, from_micros, to_micros
from core.numbering.book import CsvError, csv_rows
from core.numbering.services import book_keys
from core.plugins import registries
from core.tenancy import audit
from core.tenancy.scope import in_subtree, of_visible_partner, owned, require_admin, require_manager, visible_partner
from core.tenancy.tables import Partner
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

RATE_COLUMNS = ("country_iso", "mcc", "mnc", "price")
RATE_OPTIONAL = ("valid_from", "valid_to")
_PRICE = re.compile(r"^[0-9]+(\.[0-9]{1,6})?$")
_CHUNK = 500


def _plan_view(row: dict[str, Any], rates: int = 0, assigned: int = 0) -> RatePlanView:
    return RatePlanView(
        id=row["id"],
        partner_id=row["partner"],
        partner_name=row["partner_name"],
        name=row["name"],
        channel=row["channel"],
        mode=row["mode"],
        currency=row["currency"],
        selectable=row["selectable"],
        rates=rates,
        assigned=assigned,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _rate_view(row: dict[str, Any]) -> RateView:
    return RateView(
        id=row["id"],
        plan_id=row["plan"],
        country_iso=row["country_iso"],
        mcc=row["mcc"],
        mnc=row["mnc"],
        price=from_micros(row["price"]),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
    )


PLAN_COLUMNS = (*RatePlan.all_columns(), RatePlan.partner.name.as_alias("partner_name"))


async def _visible_plan(actor: Actor, plan_id: int) -> dict[str, Any]:
    require_manager(actor)
    row = (
        await RatePlan.select(*PLAN_COLUMNS)
        .where((RatePlan.id == plan_id) & in_subtree(actor, RatePlan.partner_path))
        .first()
    )
    if row is None:
        raise NotFound("Rate plan")
    return row


async def _counts(plan_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    rates: dict[int, int] = {}
    assigned: dict[int, int] = {}
    if plan_ids:
        for r in await Rate.select(Rate.plan).where(Rate.plan.is_in(plan_ids)):
            rates[r["plan"]] = rates.get(r["plan"], 0) + 1
        for r in await PlanAssignment.select(PlanAssignment.plan).where(PlanAssignment.plan.is_in(plan_ids)):
            assigned[r["plan"]] = assigned.get(r["plan"], 0) + 1
    return rates, assigned


# Plans ------------------------------------------------------------------------------------------------------
async def list_plans(
    actor: Actor, *, query: str = "", channel: str = "", page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[RatePlanView]:
    require_manager(actor)
    where = in_subtree(actor, RatePlan.partner_path)
    if channel:
        where &= RatePlan.channel == channel
    if query.strip():
        where &= icontains(RatePlan.name, query.strip()) | icontains(RatePlan.partner.name, query.strip())
    found = await paginate(
        RatePlan.select(*PLAN_COLUMNS).order_by(RatePlan.partner_path).order_by(RatePlan.name),
        where,
        page=page,
        per_page=per_page,
    )
    rows = found.items
    rates, assigned = await _counts([r["id"] for r in rows])
    items = [_plan_view(r, rates.get(r["id"], 0), assigned.get(r["id"], 0)) for r in rows]
    return found.with_items(items)


async def get_plan(actor: Actor, plan_id: int) -> RatePlanView:
    row = await _visible_plan(actor, plan_id)
    rates, assigned = await _counts([plan_id])
    return _plan_view(row, rates.get(plan_id, 0), assigned.get(plan_id, 0))


async def create_plan(actor: Actor, data: RatePlanCreate, *, ip: str = "") -> RatePlanView:
    """A plan offered by the actor's own partner."""
    require_manager(actor)
    require_admin(actor, "manage rate plans")
    if data.channel not in registries().channels:
        raise InvalidInput(f"channel: unknown channel {data.channel!r}", field="channel")
    now = datetime.now(UTC)
    async with write_transaction():
        if await RatePlan.exists().where(owned(RatePlan, actor) & (RatePlan.name == data.name)):
            raise Conflict(f"You already have a rate plan named {data.name!r}", field="name")
        row = RatePlan(
            partner=actor.partner_id,
            partner_path=actor.partner_path,
            name=data.name,
            channel=data.channel,
            mode=data.mode,
            currency=data.currency or actor.currency,
            selectable=data.selectable,
            created_at=now,
            updated_at=now,
        )
        await row.save()
        await audit.record(
            actor,
            "rate_plan.create",
            f"Created {data.channel} rate plan {data.name!r} ({data.mode})",
            object_type="rate_plan",
            object_id=row.id,
            ip=ip,
            name=data.name,
            params={"channel": data.channel},
        )
    return await get_plan(actor, row.id)


async def update_plan(actor: Actor, plan_id: int, data: RatePlanUpdate, *, ip: str = "") -> RatePlanView:
    current = await _visible_plan(actor, plan_id)
    require_admin(actor, "manage rate plans")
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    async with write_transaction():
        if "name" in changes and changes["name"] != current["name"]:
            clash = (RatePlan.partner == current["partner"]) & (RatePlan.name == changes["name"])
            if await RatePlan.exists().where(clash & (RatePlan.id != plan_id)):
                raise Conflict(f"A rate plan named {changes['name']!r} already exists", field="name")
        await RatePlan.update(
            {**{getattr(RatePlan, k): v for k, v in changes.items()}, RatePlan.updated_at: datetime.now(UTC)}
        ).where(RatePlan.id == plan_id)
        await audit.record(
            actor,
            "rate_plan.update",
            f"Changed rate plan {current['name']!r}",
            object_type="rate_plan",
            object_id=plan_id,
            details=changes,
            ip=ip,
            name=current["name"],
            changed=audit.row_changes(current, changes),
        )
    return await get_plan(actor, plan_id)


# Rates ------------------------------------------------------------------------------------------------------
async def list_rates(
    actor: Actor, plan_id: int, *, query: str = "", page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[RateView]:
    """A plan's rates by country and network; ``query`` is an ISO code, an MCC or an MCCMNC."""
    await _visible_plan(actor, plan_id)
    where: Combinable = Rate.plan == plan_id
    if q := query.strip().replace(" ", ""):
        if q.isdigit():
            where &= (Rate.mcc == q[:3]) & ((Rate.mnc == q[3:]) if len(q) > 3 else Rate.mnc.is_not_null())
        else:
            where &= Rate.country_iso == q.upper()
    found = await paginate(
        Rate.select().order_by(Rate.country_iso).order_by(Rate.mnc).order_by(Rate.id),
        where,
        page=page,
        per_page=per_page,
    )
    return found.with_items([_rate_view(r) for r in found.items])


_MIN, _MAX = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def _overlaps(a: tuple[datetime | None, datetime | None], b: tuple[datetime | None, datetime | None]) -> bool:
    a_from, a_to = a[0] or _MIN, a[1] or _MAX
    b_from, b_to = b[0] or _MIN, b[1] or _MAX
    return aware(a_from) < aware(b_to) and aware(b_from) < aware(a_to)


def _key(country_iso: str, mcc: str, mnc: str) -> tuple[str, str]:
    """Rates compete per network (MCC, MNC), or per country for All networks."""
    return (mcc, mnc) if mnc else (country_iso, "")


def _destination(country_iso: str, mcc: str, mnc: str) -> Any:
    """A rate's destination as the audit log says it: 'DE 262 01', or the country's All networks."""
    return f"{country_iso} {mcc} {mnc}" if mnc else [country_iso, audit.label("All networks")]


def _describe(country_iso: str, mcc: str, mnc: str) -> str:
    return f"{country_iso} {mcc} {mnc}" if mnc else f"{country_iso} All networks"


async def _check_in_book(rate: RateIn, book: tuple[dict[str, set[str]], set[tuple[str, str]]]) -> tuple[str, str]:
    """(field, reason) when the rate's country or network is not in the numbering book, else ("", "")."""
    mccs, pairs = book
    if rate.country_iso not in mccs:
        return "country_iso", f"{rate.country_iso} is not in the numbering book"
    if rate.mcc not in mccs[rate.country_iso]:
        return "mcc", f"{rate.mcc} is not an MCC of {rate.country_iso}"
    if rate.mnc and (rate.mcc, rate.mnc) not in pairs:
        return "mnc", f"no network {rate.mcc} {rate.mnc} in the numbering book"
    return "", ""


def _parse_moment(text: str, row: int, column: str) -> datetime | None:
    if not text:
        return None
    try:
        return aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise CsvError(row, column, f"{text!r} is not a date (YYYY-MM-DD) or date and time") from None


async def parse_rates(data: bytes) -> list[RateIn]:
    """The rates of a CSV ``country_iso,mcc,mnc,price[,valid_from,valid_to]``; CsvError names row and column."""
    book = await book_keys()
    rates: list[RateIn] = []
    seen: dict[tuple[str, str], list[tuple[int, RateIn]]] = {}
    for row, values in csv_rows(data, RATE_COLUMNS, RATE_OPTIONAL):
        iso, mcc, mnc = values["country_iso"].upper(), values["mcc"], values["mnc"]
        if not re.match(r"^[A-Z]{2}$", iso):
            raise CsvError(row, "country_iso", "two letters, e.g. ES")
        if not re.match(r"^[0-9]{3}$", mcc):
            raise CsvError(row, "mcc", "3 digits, e.g. 214")
        if not re.match(r"^([0-9]{2,3})?$", mnc):
            raise CsvError(row, "mnc", "2 or 3 digits, or empty for the country's All networks")
        price = values["price"].replace(",", ".")
        if not _PRICE.match(price) or float(price) > MAX_AMOUNT:
            raise CsvError(row, "price", f"{values['price']!r} is not an amount like 0.045 (at most 6 decimals)")
        valid_from = _parse_moment(values.get("valid_from", ""), row, "valid_from")
        valid_to = _parse_moment(values.get("valid_to", ""), row, "valid_to")
        if valid_from and valid_to and valid_to <= valid_from:
            raise CsvError(row, "valid_to", "must be after valid_from")
        rate = RateIn(country_iso=iso, mcc=mcc, mnc=mnc, price=Decimal(price), valid_from=valid_from, valid_to=valid_to)
        field, reason = await _check_in_book(rate, book)
        if field:
            raise CsvError(row, field, reason)
        key = _key(iso, mcc, mnc)
        for other_row, other in seen.get(key, []):
            if _overlaps((valid_from, valid_to), (other.valid_from, other.valid_to)):
                raise CsvError(
                    row,
                    "valid_from",
                    f"{_describe(iso, mcc, mnc)} already has a rate for this period in row {other_row}",
                )
        seen.setdefault(key, []).append((row, rate))
        rates.append(rate)
    if not rates:
        raise CsvError(0, "file", "no rates below the header")
    return rates


def _rate_row(plan_id: int, rate: RateIn) -> Rate:
    return Rate(
        plan=plan_id,
        country_iso=rate.country_iso,
        mcc=rate.mcc,
        mnc=rate.mnc,
        price=to_micros(rate.price),
        valid_from=aware(rate.valid_from) if rate.valid_from else None,
        valid_to=aware(rate.valid_to) if rate.valid_to else None,
    )


async def upload_rates(actor: Actor, plan_id: int, data: bytes, *, ip: str = "") -> RatesUploaded:
    """Replace every rate of the plan with a CSV's, all or nothing."""
    plan = await _visible_plan(actor, plan_id)
    require_admin(actor, "manage rate plans")
    rates = await parse_rates(data)
    async with write_transaction():
        await Rate.delete().where(Rate.plan == plan_id)
        for start in range(0, len(rates), _CHUNK):
            await Rate.insert(*[_rate_row(plan_id, r) for r in rates[start : start + _CHUNK]])
        await RatePlan.update({RatePlan.updated_at: datetime.now(UTC)}).where(RatePlan.id == plan_id)
        await audit.record(
            actor,
            "rate_plan.rates_upload",
            f"Loaded {len(rates)} rates into rate plan {plan['name']!r}",
            object_type="rate_plan",
            object_id=plan_id,
            ip=ip,
            name=plan["name"],
            params={"count": len(rates)},
        )
    return RatesUploaded(plan_id=plan_id, rates=len(rates))


async def _check_overlap(plan_id: int, rate: RateIn, exclude: int | None = None) -> None:
    where = (Rate.plan == plan_id) & (Rate.mnc == rate.mnc)
    where &= (Rate.mcc == rate.mcc) if rate.mnc else (Rate.country_iso == rate.country_iso)
    if exclude:
        where &= Rate.id != exclude
    for other in await Rate.select().where(where):
        if _overlaps((rate.valid_from, rate.valid_to), (other["valid_from"], other["valid_to"])):
            raise Conflict(
                f"{_describe(rate.country_iso, rate.mcc, rate.mnc)} already has a rate for this period",
                field="valid_from",
            )


async def add_rate(actor: Actor, plan_id: int, data: RateIn, *, ip: str = "") -> RateView:
    plan = await _visible_plan(actor, plan_id)
    require_admin(actor, "manage rate plans")
    field, reason = await _check_in_book(data, await book_keys())
    if field:
        raise InvalidInput(f"{field}: {reason}", field=field)
    async with write_transaction():
        await _check_overlap(plan_id, data)
        row = _rate_row(plan_id, data)
        await row.save()
        await RatePlan.update({RatePlan.updated_at: datetime.now(UTC)}).where(RatePlan.id == plan_id)
        await audit.record(
            actor,
            "rate_plan.rate.create",
            f"Rate {data.price} {plan['currency']} for {_describe(data.country_iso, data.mcc, data.mnc)} "
            f"in {plan['name']!r}",
            object_type="rate_plan",
            object_id=plan_id,
            ip=ip,
            name=plan["name"],
            params={
                "destination": _destination(data.country_iso, data.mcc, data.mnc),
                "price": audit.amount(data.price, plan["currency"]),
            },
        )
    return _rate_view(must_exist(await Rate.select().where(Rate.id == row.id).first()))


async def _visible_rate(actor: Actor, rate_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    require_manager(actor)
    row = await Rate.select().where((Rate.id == rate_id) & in_subtree(actor, Rate.plan.partner_path)).first()
    if row is None:
        raise NotFound("Rate")
    return row, await _visible_plan(actor, row["plan"])


async def get_rate(actor: Actor, rate_id: int) -> RateView:
    return _rate_view((await _visible_rate(actor, rate_id))[0])


async def update_rate(actor: Actor, rate_id: int, data: RateUpdate, *, ip: str = "") -> RateView:
    row, plan = await _visible_rate(actor, rate_id)
    require_admin(actor, "manage rate plans")
    merged = RateIn(
        country_iso=row["country_iso"],
        mcc=row["mcc"],
        mnc=row["mnc"],
        price=from_micros(row["price"]) if data.price is msgspec.UNSET else data.price,
        valid_from=row["valid_from"] if data.valid_from is msgspec.UNSET else data.valid_from,
        valid_to=row["valid_to"] if data.valid_to is msgspec.UNSET else data.valid_to,
    )
    if merged.valid_from and merged.valid_to and aware(merged.valid_to) <= aware(merged.valid_from):
        raise InvalidInput("valid_to: must be after valid_from", field="valid_to")
    async with write_transaction():
        await _check_overlap(row["plan"], merged, exclude=rate_id)
        fresh = _rate_row(row["plan"], merged)
        await Rate.update(
            {Rate.price: fresh.price, Rate.valid_from: fresh.valid_from, Rate.valid_to: fresh.valid_to}
        ).where(Rate.id == rate_id)
        await audit.record(
            actor,
            "rate_plan.rate.update",
            f"Rate for {_describe(row['country_iso'], row['mcc'], row['mnc'])} in {plan['name']!r} "
            f"set to {merged.price} {plan['currency']}",
            object_type="rate_plan",
            object_id=row["plan"],
            ip=ip,
            name=plan["name"],
            params={"destination": _destination(row["country_iso"], row["mcc"], row["mnc"])},
            changed=audit.changes(
                {
                    "price": audit.money(row["price"], plan["currency"]),
                    "valid_from": audit.day(row["valid_from"]),
                    "valid_to": audit.day(row["valid_to"]),
                },
                {
                    "price": audit.money(fresh.price, plan["currency"]),
                    "valid_from": audit.day(fresh.valid_from),
                    "valid_to": audit.day(fresh.valid_to),
                },
            ),
        )
    return await get_rate(actor, rate_id)


async def delete_rate(actor: Actor, rate_id: int, *, ip: str = "") -> int:
    """Remove a rate; returns its plan's id."""
    row, plan = await _visible_rate(actor, rate_id)
    require_admin(actor, "manage rate plans")
    async with write_transaction():
        await Rate.delete().where(Rate.id == rate_id)
        await audit.record(
            actor,
            "rate_plan.rate.delete",
            f"Removed the rate for {_describe(row['country_iso'], row['mcc'], row['mnc'])} from {plan['name']!r}",
            object_type="rate_plan",
            object_id=row["plan"],
            ip=ip,
            name=plan["name"],
            params={"destination": _destination(row["country_iso"], row["mcc"], row["mnc"])},
        )
    return row["plan"]


def rates_csv(rates: list[RateView]) -> str:
    lines = [",".join((*RATE_COLUMNS, *RATE_OPTIONAL))]
    for r in rates:
        dates = [d.isoformat() if d else "" for d in (r.valid_from, r.valid_to)]
        lines.append(",".join([r.country_iso, r.mcc, r.mnc, str(r.price), *dates]))
    return "\n".join(lines) + "\n"


# Assignments --------------------------------------------------------------------------------------------------
def _assignment_view(row: dict[str, Any]) -> AssignmentView:
    return AssignmentView(
        partner_id=row["partner"],
        partner_name=row["partner_name"],
        plan_id=row["plan"],
        plan_name=row["plan_name"],
        channel=row["channel"],
        assigned_by=row["assigned_by"],
        assigned_at=row["assigned_at"],
    )


_ASSIGNMENT_COLUMNS = (
    *PlanAssignment.all_columns(),
    PlanAssignment.partner.name.as_alias("partner_name"),
    PlanAssignment.plan.name.as_alias("plan_name"),
)


async def list_assignments(actor: Actor, plan_id: int) -> list[AssignmentView]:
    """The partners (in the actor's subtree) that use this plan."""
    await _visible_plan(actor, plan_id)
    rows = (
        await PlanAssignment.select(*_ASSIGNMENT_COLUMNS)
        .where((PlanAssignment.plan == plan_id) & in_subtree(actor, PlanAssignment.partner.path))
        .order_by(PlanAssignment.partner.path)
    )
    return [_assignment_view(r) for r in rows]


async def partner_plans(actor: Actor, partner_id: int) -> list[AssignmentView]:
    """The plans a visible partner uses, one per channel."""
    where = await of_visible_partner(actor, PlanAssignment, partner_id)
    require_manager(actor)
    rows = await PlanAssignment.select(*_ASSIGNMENT_COLUMNS).where(where).order_by(PlanAssignment.channel)
    return [_assignment_view(r) for r in rows]


async def assignable_partners(actor: Actor, plan_id: int) -> list[dict[str, Any]]:
    """Partners the plan may be assigned to: below its offering partner, in the actor's subtree, same currency."""
    plan = await _visible_plan(actor, plan_id)
    rows = (
        await Partner.select(Partner.id, Partner.name, Partner.path, Partner.kind)
        .where(
            in_subtree(actor)
            & starts_with(Partner.path, plan["partner_path"])
            & (Partner.id != plan["partner"])
            & (Partner.currency == plan["currency"])
        )
        .order_by(Partner.path)
    )
    return rows


async def assign_plan(actor: Actor, plan_id: int, partner_id: int, *, ip: str = "") -> AssignmentView:
    """Make the plan the partner's plan for its channel, replacing the one it had (one plan per channel)."""
    plan = await _visible_plan(actor, plan_id)
    partner = await visible_partner(actor, partner_id)
    require_admin(actor, "assign rate plans")
    return await put_on_plan(actor, plan, partner, ip=ip)


async def put_on_plan(actor: Actor, plan: dict[str, Any], partner: dict[str, Any], *, ip: str = "") -> AssignmentView:
    """Write ``partner``'s assignment to ``plan`` (rows the caller found visible to ``actor``) with its audit row:
    the one rule behind a parent's assignment and a client's own selection."""
    partner_id = partner["id"]
    plan_id = plan["id"]
    if partner["id"] == plan["partner"] or not partner["path"].startswith(plan["partner_path"]):
        raise InvalidInput(
            f"partner_id: {plan['partner_name']} offers this plan, so it goes only to its own partners",
            field="partner_id",
        )
    if partner["currency"] != plan["currency"]:
        raise InvalidInput(
            f"partner_id: {partner['name']} pays in {partner['currency']}, the plan is in {plan['currency']}",
            field="partner_id",
        )
    slot = f"{partner_id}:{plan['channel']}"
    now = datetime.now(UTC)
    async with write_transaction():
        previous = await PlanAssignment.select().where(PlanAssignment.slot == slot).first()
        if previous:
            await PlanAssignment.update(
                {PlanAssignment.plan: plan_id, PlanAssignment.assigned_by: actor.email, PlanAssignment.assigned_at: now}
            ).where(PlanAssignment.id == previous["id"])
        else:
            await PlanAssignment.insert(
                PlanAssignment(
                    partner=partner_id,
                    plan=plan_id,
                    channel=plan["channel"],
                    slot=slot,
                    assigned_by=actor.email,
                    assigned_at=now,
                )
            )
        await audit.record(
            actor,
            "rate_plan.assign",
            f"Assigned {plan['channel']} rate plan {plan['name']!r} to {partner['name']}",
            object_type="partner",
            object_id=partner_id,
            details={"plan_id": plan_id, "replaced_plan_id": previous["plan"] if previous else None},
            ip=ip,
            name=partner["name"],
            params={"channel": plan["channel"], "plan": plan["name"]},
        )
    row = must_exist(await PlanAssignment.select(*_ASSIGNMENT_COLUMNS).where(PlanAssignment.slot == slot).first())
    return _assignment_view(row)


async def unassign_plan(actor: Actor, plan_id: int, partner_id: int, *, ip: str = "") -> None:
    plan = await _visible_plan(actor, plan_id)
    partner = await visible_partner(actor, partner_id)
    require_admin(actor, "assign rate plans")
    where = (PlanAssignment.plan == plan_id) & (PlanAssignment.partner == partner_id)
    async with write_transaction():
        if not await PlanAssignment.exists().where(where):
            raise NotFound("Assignment")
        await PlanAssignment.delete().where(where)
        await audit.record(
            actor,
            "rate_plan.unassign",
            f"Took {plan['channel']} rate plan {plan['name']!r} away from {partner['name']}",
            object_type="partner",
            object_id=partner_id,
            details={"plan_id": plan_id},
            ip=ip,
            name=partner["name"],
            params={"channel": plan["channel"], "plan": plan["name"]},
        )
