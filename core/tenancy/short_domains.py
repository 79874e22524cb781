"""Short domains (URL-1): the owner adds them; each parent grants to its partners only what it may use itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from core.actor import Actor
from core.db import json_value, must_exist, unique_or, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.tenancy import audit
from core.tenancy.schemas import ShortDomainCreate, ShortDomainView
from core.tenancy.scope import in_subtree, managed_partner, require_admin, require_owner
from core.tenancy.tables import Partner, ShortDomain
from core.web.i18n import N_
from core.web.pagination import MAX_PAGE, Page, paginate

FIELD = "options.shortener_domains"


def granted_hosts(options: Any) -> set[str]:
    """The host names a partner's stored options grant it (before its ancestors' grants are applied)."""
    return {str(h).lower() for h in (json_value(options) or {}).get("shortener_domains", [])}


def allowed_by_chain(ancestors: Iterable[dict[str, Any]]) -> set[str] | None:
    """What the chain of partner rows (kind, options) leaves usable: None means every domain (the owner).

    A reseller's partner keeps a domain only while every partner above it (the owner aside) still has it, so a
    revoke higher up takes the domain from the whole subtree at once.
    """
    allowed: set[str] | None = None
    for row in ancestors:
        if row["kind"] == "owner":
            continue
        granted = granted_hosts(row["options"])
        allowed = granted if allowed is None else allowed & granted
    return allowed


async def registered_hosts() -> list[str]:
    return [r["host"] for r in await ShortDomain.select(ShortDomain.host).order_by(ShortDomain.host)]


async def usable_hosts(allowed: set[str] | None) -> tuple[str, ...]:
    """The registered short domains within ``allowed`` (None: all); no query when nothing is allowed."""
    if allowed is not None and not allowed:
        return ()
    return tuple(h for h in await registered_hosts() if allowed is None or h in allowed)


async def _chain(path: str) -> list[dict[str, Any]]:
    ids = [int(seg) for seg in path.strip("/").split("/")]
    rows = await Partner.select(Partner.id, Partner.kind, Partner.options).where(Partner.id.is_in(ids))
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


async def partner_hosts(path: str) -> tuple[str, ...]:
    """The short domains the partner at ``path`` may use in its campaigns."""
    return await usable_hosts(allowed_by_chain(await _chain(path)))


async def check_grants(parent_path: str, hosts: Sequence[str], already: Iterable[str] = ()) -> list[str]:
    """The lower-cased ``hosts`` a parent sets in a partner's options, once each new one is the parent's to give.

    Hosts the partner already had may stay even when the parent lost them: they are simply not usable.

    Raises:
        InvalidInput: a new host is not a short domain the parent may use (the message names it).
    """
    wanted = list(dict.fromkeys(h.lower() for h in hosts))
    new = [h for h in wanted if h not in set(already)]
    if new:
        usable = set(await partner_hosts(parent_path))
        for host in new:
            if host not in usable:
                raise InvalidInput(f"{host} is not a short domain you can grant", field=FIELD)
    return wanted


def _view(row: dict[str, Any], granted_to: list[int]) -> ShortDomainView:
    return ShortDomainView(id=row["id"], host=row["host"], created_at=row["created_at"], granted_to=granted_to)


async def _children_with(actor: Actor) -> list[dict[str, Any]]:
    return await Partner.select(Partner.id, Partner.options).where(Partner.parent == actor.partner_id)


async def list_domains(actor: Actor) -> list[ShortDomainView]:
    """The short domains the actor's partner may use, each with the direct partners it granted it to."""
    return (await domains_page(actor, page=1, per_page=MAX_PAGE)).items


async def domains_page(actor: Actor, *, page: int, per_page: int) -> Page[ShortDomainView]:
    """One page of ``list_domains``, by host (the Admin Panel's grant page)."""
    usable = sorted(set(await partner_hosts(actor.partner_path)))
    if not usable:
        return Page(items=[], total=0, page=page, per_page=per_page)
    rows = await paginate(
        ShortDomain.select().order_by(ShortDomain.host), ShortDomain.host.is_in(usable), page=page, per_page=per_page
    )
    children = await _children_with(actor)
    granted = {c["id"]: granted_hosts(c["options"]) for c in children}
    return rows.with_items(
        [_view(row, sorted(pid for pid, hosts in granted.items() if row["host"] in hosts)) for row in rows.items]
    )


async def _usable_domain(actor: Actor, domain_id: int) -> dict[str, Any]:
    row = await ShortDomain.select().where(ShortDomain.id == domain_id).first()
    if row is None or row["host"] not in await partner_hosts(actor.partner_path):
        raise NotFound("Short domain")
    return row


async def get_domain(actor: Actor, domain_id: int) -> ShortDomainView:
    row = await _usable_domain(actor, domain_id)
    children = await _children_with(actor)
    return _view(row, sorted(c["id"] for c in children if row["host"] in granted_hosts(c["options"])))


async def create_domain(actor: Actor, data: ShortDomainCreate, *, ip: str = "") -> ShortDomainView:
    require_owner(actor, "add short domains", hidden=False)
    host = data.host.lower()
    async with write_transaction():
        if await ShortDomain.exists().where(ShortDomain.host == host):
            raise Conflict(f"{host} is already a short domain", field="host")
        with unique_or(Conflict(f"{host} is already a short domain", field="host")):
            row = ShortDomain(host=host, created_at=datetime.now(UTC))
            await row.save()
        short_host_cache.clear()
        summary = f"Added short domain {host}"
        await audit.record(
            actor, "short_domain.create", summary, object_type="short_domain", object_id=row.id, ip=ip, name=host
        )
    return _view(must_exist(await ShortDomain.select().where(ShortDomain.id == row.id).first()), [])


async def delete_domain(actor: Actor, domain_id: int, *, ip: str = "") -> None:
    """Remove a short domain everywhere; grants naming it no longer count."""
    row = await _usable_domain(actor, domain_id)  # a foreign id is a missing id, before any role check
    require_owner(actor, "remove short domains", hidden=False)
    async with write_transaction():
        await ShortDomain.delete().where(ShortDomain.id == domain_id)
        short_host_cache.clear()
        await audit.record(
            actor,
            "short_domain.delete",
            f"Removed short domain {row['host']}",
            object_type="short_domain",
            object_id=domain_id,
            ip=ip,
            name=row["host"],
        )


async def _set_grant(actor: Actor, domain_id: int, partner_id: int, *, granted: bool, ip: str) -> ShortDomainView:
    domain = await _usable_domain(actor, domain_id)
    partner = await managed_partner(actor, partner_id)
    require_admin(actor, "grant short domains")
    if partner["parent"] != actor.partner_id:
        # Grants go one level down: a partner further below gets the domain from its own parent.
        raise InvalidInput(N_("Grant short domains to your own partners only"), field="partner_id")
    hosts = granted_hosts(partner["options"])
    if granted == (domain["host"] in hosts):
        return await get_domain(actor, domain_id)
    options = dict(json_value(partner["options"]) or {})
    options["shortener_domains"] = sorted(hosts | {domain["host"]} if granted else hosts - {domain["host"]})
    verb = "Granted" if granted else "Revoked"
    async with write_transaction():
        await Partner.update({Partner.options: options}).where(Partner.id == partner_id)
        await audit.record(
            actor,
            "short_domain.grant" if granted else "short_domain.revoke",
            f"{verb} short domain {domain['host']} {'to' if granted else 'from'} {partner['name']}",
            object_type="partner",
            object_id=partner_id,
            ip=ip,
            name=partner["name"],
            params={"domain": domain["host"]},
        )
    return await get_domain(actor, domain_id)


async def grant(actor: Actor, domain_id: int, partner_id: int, *, ip: str = "") -> ShortDomainView:
    return await _set_grant(actor, domain_id, partner_id, granted=True, ip=ip)


async def revoke(actor: Actor, domain_id: int, partner_id: int, *, ip: str = "") -> ShortDomainView:
    return await _set_grant(actor, domain_id, partner_id, granted=False, ip=ip)


async def grantable_partners(actor: Actor) -> dict[int, str]:
    """Id → name of the partners the actor grants short domains to (its direct partners)."""
    rows = await Partner.select(Partner.id, Partner.name).where(
        (Partner.parent == actor.partner_id) & in_subtree(actor)
    )
    return {r["id"]: r["name"] for r in sorted(rows, key=lambda r: r["name"].lower())}


class ShortHostCache:
    """The set of short domains, reread at most every CACHE_SECONDS per process: the middleware asks per request.

    One read at a time: the requests that find the set stale together wait for the same query, where each used to
    run its own (a burst of redirects opened a database connection per request every CACHE_SECONDS).
    """

    CACHE_SECONDS = 5.0

    def __init__(self) -> None:
        self._hosts: frozenset[str] = frozenset()
        self._until = 0.0
        self._reading: asyncio.Task[None] | None = None

    def clear(self) -> None:
        self._until = 0.0

    async def contains(self, host: str) -> bool:
        if time.monotonic() >= self._until:
            loop = asyncio.get_running_loop()
            if self._reading is None or self._reading.get_loop() is not loop:  # a test's finished loop left it
                self._reading = loop.create_task(self._read())
            # Shielded: a request that goes away does not cancel the read the others wait for.
            await asyncio.shield(self._reading)
        return host in self._hosts

    async def _read(self) -> None:
        try:
            started = time.monotonic()
            self._hosts = frozenset(await registered_hosts())
            self._until = started + self.CACHE_SECONDS
        finally:
            self._reading = None


short_host_cache = ShortHostCache()
