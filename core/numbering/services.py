"""The numbering book (NUM-1) kept by the owner, and prefix → (country, MCCMNC, network) resolution (NUM-3).

The dispatch engine resolves numbers through ``await prefix_index()``: an in-process index, rebuilt when the
book's stamp (one row rewritten by every change, in the change's transaction) differs from the one it was
built from, so every worker process sees a change at its next call.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.db import icontains, must_exist, starts_with, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.numbering.book import BookCountry, BookNetwork, book_csv, parse_book
from core.numbering.normalise import InvalidNumber, normalise
from core.numbering.schemas import (
    ALL_NETWORKS,
    BookSummary,
    CountryIn,
    CountryUpdate,
    CountryView,
    NetworkIn,
    NetworkUpdate,
    NetworkView,
    Resolution,
)
from core.numbering.tables import BookStamp, Country, Network, Prefix
from core.tenancy import audit
from core.tenancy.scope import require_owner
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

SEED_CSV = Path(__file__).parent / "seed" / "e212.csv"
_CHUNK = 500
CHANGE_BOOK = "change the numbering book"


# Resolution -----------------------------------------------------------------------------------------------
class Destination(msgspec.Struct, frozen=True, gc=False):
    """Where a number goes: ``mnc`` "" is the country's All networks."""

    country_iso: str
    country: str
    mcc: str
    mnc: str
    network: str


class PrefixIndex:
    """Longest-prefix lookup of E.164 digits: one dict per prefix length, tried longest first."""

    __slots__ = ("_levels", "size", "stamp")

    def __init__(self, entries: dict[str, Destination], stamp: str) -> None:
        by_length: dict[int, dict[str, Destination]] = {}
        for prefix, dest in entries.items():
            by_length.setdefault(len(prefix), {})[prefix] = dest
        self._levels = tuple(sorted(by_length.items(), reverse=True))
        self.stamp = stamp
        self.size = len(entries)

    def resolve(self, number: str) -> Destination | None:
        """The network of the longest matching prefix; a known country code alone gives its All networks."""
        for length, table in self._levels:
            dest = table.get(number[:length])
            if dest is not None:
                return dest
        return None


_index: PrefixIndex | None = None


async def _stamp() -> str:
    row = await BookStamp.select(BookStamp.stamp).first()
    return row["stamp"] if row else ""


async def prefix_index() -> PrefixIndex:
    """The process's index of the book, rebuilt first when the book changed since it was built."""
    global _index
    stamp = await _stamp()  # read before the rows: a change in between only causes one more rebuild
    if _index is not None and _index.stamp == stamp:
        return _index
    entries: dict[str, Destination] = {}
    countries = await Country.select()
    all_networks = {
        r["country"]: r for r in await Network.select().where(Network.mnc == "").order_by(Network.id, ascending=False)
    }
    for c in countries:
        row = all_networks.get(c["id"])
        dest = Destination(
            c["iso"], c["name"], row["mcc"] if row else c["mcc"], "", row["name"] if row else ALL_NETWORKS
        )
        entries.setdefault(c["dial_code"], dest)
    rows = await Prefix.select(
        Prefix.prefix,
        Prefix.network.mcc.as_alias("mcc"),
        Prefix.network.mnc.as_alias("mnc"),
        Prefix.network.name.as_alias("network"),
        Prefix.network._.country._.iso.as_alias("iso"),
        Prefix.network._.country._.name.as_alias("country"),
    )
    interned: dict[tuple, Destination] = {}
    for r in rows:
        key = (r["iso"], r["country"], r["mcc"], r["mnc"], r["network"])
        dest = interned.get(key) or interned.setdefault(key, Destination(*key))
        entries[r["prefix"]] = dest
    _index = PrefixIndex(entries, stamp)
    return _index


async def _touch() -> None:
    """Mark the book changed (inside the change's transaction)."""
    await BookStamp.delete(force=True)
    await BookStamp.insert(BookStamp(stamp=secrets.token_hex(16), changed_at=datetime.now(UTC)))


# Loading ----------------------------------------------------------------------------------------------------
async def _store(countries: list[BookCountry]) -> BookSummary:
    """Replace the whole book (call inside a write transaction)."""
    await Prefix.delete(force=True)
    await Network.delete(force=True)
    await Country.delete(force=True)
    await Country.insert(*[Country(iso=c.iso, name=c.name, mcc=c.mcc, dial_code=c.dial_code) for c in countries])
    ids = {r["iso"]: r["id"] for r in await Country.select(Country.id, Country.iso)}
    networks = [(ids[c.iso], n) for c in countries for n in c.networks]
    for start in range(0, len(networks), _CHUNK):
        chunk = networks[start : start + _CHUNK]
        await Network.insert(*[Network(country=cid, mcc=n.mcc, mnc=n.mnc, name=n.name) for cid, n in chunk])
    network_ids = {(r["mcc"], r["mnc"]): r["id"] for r in await Network.select(Network.id, Network.mcc, Network.mnc)}
    prefixes = [Prefix(network=network_ids[n.mcc, n.mnc], prefix=p) for _, n in networks for p in n.prefixes]
    for start in range(0, len(prefixes), _CHUNK):
        await Prefix.insert(*prefixes[start : start + _CHUNK])
    await _touch()
    return BookSummary(countries=len(countries), networks=len(networks), prefixes=len(prefixes))


async def load_book(actor: Actor | None, data: bytes, *, ip: str = "") -> BookSummary:
    """Replace the book with a CSV, all or nothing; ``actor`` None is the system (seeding).

    Raises:
        CsvError: the first bad row and column; nothing is stored then.
    """
    if actor is not None:
        require_owner(actor, CHANGE_BOOK)
    countries = parse_book(data)
    async with write_transaction():
        summary = await _store(countries)
        if actor is not None:
            await audit.record(
                actor,
                "numbering.upload",
                f"Loaded the numbering book: {summary.countries} countries, {summary.networks} networks, "
                f"{summary.prefixes} prefixes",
                object_type="numbering",
                object_id=None,
                ip=ip,
                params={"countries": summary.countries, "networks": summary.networks, "prefixes": summary.prefixes},
            )
    return summary


async def load_seed() -> BookSummary:
    """Load the shipped seed book (tests, demo, a fresh install)."""
    return await load_book(None, SEED_CSV.read_bytes())


async def summary() -> BookSummary:
    return BookSummary(countries=await Country.count(), networks=await Network.count(), prefixes=await Prefix.count())


async def export_book(actor: Actor) -> str:
    """The book as CSV in the upload format, so it can be edited and uploaded again."""
    require_owner(actor)
    countries: dict[int, BookCountry] = {
        c["id"]: BookCountry(iso=c["iso"], name=c["name"], dial_code=c["dial_code"], mcc=c["mcc"])
        for c in await Country.select().order_by(Country.iso)
    }
    networks: dict[int, BookNetwork] = {}
    for n in await Network.select().order_by(Network.mnc).order_by(Network.mcc):
        networks[n["id"]] = BookNetwork(mcc=n["mcc"], mnc=n["mnc"], name=n["name"])
        countries[n["country"]].networks.append(networks[n["id"]])
    for p in await Prefix.select().order_by(Prefix.prefix):
        networks[p["network"]].prefixes.append(p["prefix"])
    for c in countries.values():
        c.networks.sort(key=lambda n: (n.mnc != "", n.mcc, n.mnc))
    return book_csv(list(countries.values()))


# Countries --------------------------------------------------------------------------------------------------
def _country_view(row: dict[str, Any], networks: int = 0) -> CountryView:
    return CountryView(
        id=row["id"], iso=row["iso"], name=row["name"], mcc=row["mcc"], dial_code=row["dial_code"], networks=networks
    )


async def list_countries(actor: Actor) -> list[CountryView]:
    require_owner(actor)
    counts: dict[int, int] = {}
    for r in await Network.select(Network.country).where(Network.mnc != ""):
        counts[r["country"]] = counts.get(r["country"], 0) + 1
    return [_country_view(r, counts.get(r["id"], 0)) for r in await Country.select().order_by(Country.name)]


async def get_country(actor: Actor, country_id: int) -> CountryView:
    require_owner(actor)
    row = await Country.select().where(Country.id == country_id).first()
    if row is None:
        raise NotFound("Country")
    return _country_view(row, await Network.count().where((Network.country == country_id) & (Network.mnc != "")))


async def create_country(actor: Actor, data: CountryIn, *, ip: str = "") -> CountryView:
    """A new country with its All networks row."""
    require_owner(actor, CHANGE_BOOK)
    async with write_transaction():
        if await Country.exists().where(Country.iso == data.iso):
            raise Conflict(f"{data.iso} is already in the book", field="iso")
        if await Network.exists().where((Network.mcc == data.mcc) & (Network.mnc == "")):
            raise Conflict(f"MCC {data.mcc} already has an All networks row", field="mcc")
        row = Country(iso=data.iso, name=data.name, mcc=data.mcc, dial_code=data.dial_code)
        await row.save()
        await Network.insert(Network(country=row.id, mcc=data.mcc, mnc="", name=ALL_NETWORKS))
        await _touch()
        await audit.record(
            actor,
            "numbering.country.create",
            f"Added {data.name} ({data.iso}) to the numbering book",
            object_type="country",
            object_id=row.id,
            ip=ip,
            name=f"{data.name} ({data.iso})",
        )
    return await get_country(actor, row.id)


async def update_country(actor: Actor, country_id: int, data: CountryUpdate, *, ip: str = "") -> CountryView:
    current = await get_country(actor, country_id)
    require_owner(actor, CHANGE_BOOK)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    async with write_transaction():
        if changes:
            await Country.update({getattr(Country, k): v for k, v in changes.items()}).where(Country.id == country_id)
            if "mcc" in changes:
                await Network.update({Network.mcc: changes["mcc"]}).where(
                    (Network.country == country_id) & (Network.mnc == "")
                )
            await _touch()
        await audit.record(
            actor,
            "numbering.country.update",
            f"Changed {current.name} ({current.iso}) in the numbering book",
            object_type="country",
            object_id=country_id,
            details=changes,
            ip=ip,
            name=f"{current.name} ({current.iso})",
            changed=audit.changes({k: v for k, v in msgspec.to_builtins(current).items() if k in changes}, changes),
        )
    return await get_country(actor, country_id)


async def delete_country(actor: Actor, country_id: int, *, ip: str = "") -> None:
    current = await get_country(actor, country_id)
    require_owner(actor, CHANGE_BOOK)
    async with write_transaction():
        await Country.delete().where(Country.id == country_id)
        await _touch()
        await audit.record(
            actor,
            "numbering.country.delete",
            f"Removed {current.name} ({current.iso}) and its networks",
            object_type="country",
            object_id=country_id,
            ip=ip,
            name=f"{current.name} ({current.iso})",
        )


# Networks ---------------------------------------------------------------------------------------------------
_NETWORK_COLUMNS = (
    *Network.all_columns(),
    Network.country.iso.as_alias("country_iso"),
    Network.country.name.as_alias("country_name"),
    Network.country.dial_code.as_alias("dial_code"),
)


async def _network_views(rows: list[dict[str, Any]]) -> list[NetworkView]:
    ids = [r["id"] for r in rows]
    prefixes: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for p in await Prefix.select().where(Prefix.network.is_in(ids)).order_by(Prefix.prefix):
            prefixes[p["network"]].append(p["prefix"])
    return [
        NetworkView(
            id=r["id"],
            country_id=r["country"],
            country_iso=r["country_iso"],
            country=r["country_name"],
            dial_code=r["dial_code"],
            mcc=r["mcc"],
            mnc=r["mnc"],
            name=r["name"],
            prefixes=prefixes[r["id"]],
        )
        for r in rows
    ]


async def list_networks(
    actor: Actor, *, query: str = "", country: str = "", page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[NetworkView]:
    """Networks by country and MCCMNC; ``query`` matches a name, ISO code, MCC, MCCMNC or a number's prefix."""
    require_owner(actor)
    where: Combinable = Network.id.is_not_null()
    if country:
        where &= Network.country.iso == country.upper()
    if query := query.strip():
        digits = query.lstrip("+").replace(" ", "")
        match = (
            icontains(Network.name, query)
            | icontains(Network.country.name, query)
            | (Network.country.iso == query.upper())
        )
        if digits.isdigit():
            candidates = [digits[:n] for n in range(1, len(digits) + 1)]
            match |= (
                (Network.mcc == digits[:3])
                & ((Network.mnc == digits[3:]) if len(digits) > 3 else Network.mcc.is_not_null())
            ) | Network.id.is_in(
                Prefix.select(Prefix.network).where(
                    starts_with(Prefix.prefix, digits) | Prefix.prefix.is_in(candidates)
                )
            )
        where &= match
    found = await paginate(
        Network.select(*_NETWORK_COLUMNS).order_by(Network.country.name).order_by(Network.mnc).order_by(Network.mcc),
        where,
        page=page,
        per_page=per_page,
    )
    return found.with_items(await _network_views(found.items))


async def get_network(actor: Actor, network_id: int) -> NetworkView:
    require_owner(actor)
    row = await Network.select(*_NETWORK_COLUMNS).where(Network.id == network_id).first()
    if row is None:
        raise NotFound("Network")
    return (await _network_views([row]))[0]


async def _check_network(
    country: dict[str, Any], mcc: str, mnc: str, prefixes: list[str], network_id: int | None
) -> None:
    others = Network.id != network_id if network_id else Network.id.is_not_null()
    if await Network.exists().where((Network.mcc == mcc) & (Network.mnc == mnc) & others):
        raise Conflict(f"MCC {mcc} MNC {mnc or '(All networks)'} is already in the book", field="mnc")
    for prefix in prefixes:
        if not prefix.startswith(country["dial_code"]):
            raise InvalidInput(
                f"prefixes: {prefix} does not start with the dial code {country['dial_code']}", field="prefixes"
            )
    if len(set(prefixes)) != len(prefixes):
        raise InvalidInput("prefixes: a prefix is listed twice", field="prefixes")
    taken_where: Combinable | None = Prefix.prefix.is_in(prefixes) if prefixes else None
    if taken_where is not None:
        if network_id:
            taken_where &= Prefix.network != network_id
        taken = await Prefix.select(Prefix.prefix, Prefix.network.name.as_alias("name")).where(taken_where).first()
        if taken:
            raise Conflict(f"prefixes: {taken['prefix']} already belongs to {taken['name']}", field="prefixes")


async def create_network(actor: Actor, data: NetworkIn, *, ip: str = "") -> NetworkView:
    require_owner(actor, CHANGE_BOOK)
    country = await Country.select().where(Country.iso == data.country_iso).first()
    if country is None:
        raise InvalidInput(
            f"country_iso: {data.country_iso} is not in the book; add the country first", field="country_iso"
        )
    async with write_transaction():
        await _check_network(country, data.mcc, data.mnc, data.prefixes, None)
        row = Network(country=country["id"], mcc=data.mcc, mnc=data.mnc, name=data.name)
        await row.save()
        if data.prefixes:
            await Prefix.insert(*[Prefix(network=row.id, prefix=p) for p in data.prefixes])
        await _touch()
        await audit.record(
            actor,
            "numbering.network.create",
            f"Added network {data.name} ({data.mcc} {data.mnc or 'All networks'}) to {country['name']}",
            object_type="network",
            object_id=row.id,
            ip=ip,
            name=f"{data.name} ({data.mcc} {data.mnc})" if data.mnc else data.name,
            params={"country": country["name"]},
        )
    return await get_network(actor, row.id)


async def update_network(actor: Actor, network_id: int, data: NetworkUpdate, *, ip: str = "") -> NetworkView:
    current = await get_network(actor, network_id)
    require_owner(actor, CHANGE_BOOK)
    mcc = current.mcc if data.mcc is msgspec.UNSET else data.mcc
    mnc = current.mnc if data.mnc is msgspec.UNSET else data.mnc
    prefixes = current.prefixes if data.prefixes is msgspec.UNSET else data.prefixes
    if (current.mnc == "") != (mnc == ""):
        raise InvalidInput("mnc: a country's All networks row keeps an empty MNC, and a network needs one", field="mnc")
    country = must_exist(await Country.select().where(Country.id == current.country_id).first())
    async with write_transaction():
        await _check_network(country, mcc, mnc, prefixes, network_id)
        name = current.name if data.name is msgspec.UNSET else data.name
        await Network.update({Network.mcc: mcc, Network.mnc: mnc, Network.name: name}).where(Network.id == network_id)
        if data.prefixes is not msgspec.UNSET:
            await Prefix.delete().where(Prefix.network == network_id)
            if prefixes:
                await Prefix.insert(*[Prefix(network=network_id, prefix=p) for p in prefixes])
        await _touch()
        await audit.record(
            actor,
            "numbering.network.update",
            f"Changed network {name} ({mcc} {mnc or 'All networks'})",
            object_type="network",
            object_id=network_id,
            ip=ip,
            name=current.name,
            changed=audit.changes(
                {"name": current.name, "mcc": current.mcc, "mnc": current.mnc, "prefixes": current.prefixes},
                {"name": name, "mcc": mcc, "mnc": mnc, "prefixes": prefixes},
            ),
        )
    return await get_network(actor, network_id)


async def delete_network(actor: Actor, network_id: int, *, ip: str = "") -> None:
    current = await get_network(actor, network_id)
    require_owner(actor, CHANGE_BOOK)
    if not current.mnc:
        raise Conflict("A country keeps its All networks row; remove the country instead", field="mnc")
    async with write_transaction():
        await Network.delete().where(Network.id == network_id)
        await _touch()
        await audit.record(
            actor,
            "numbering.network.delete",
            f"Removed network {current.name} ({current.mcc} {current.mnc})",
            object_type="network",
            object_id=network_id,
            ip=ip,
            name=f"{current.name} ({current.mcc} {current.mnc})",
        )


# Lookups for other domains ------------------------------------------------------------------------------------
async def resolve_number(actor: Actor, raw: str) -> Resolution:
    """Normalise and resolve one number, for the owner checking the book."""
    require_owner(actor)
    try:
        number = normalise(raw)
    except InvalidNumber as exc:
        raise InvalidInput(f"number: {exc}", field="number") from None
    dest = (await prefix_index()).resolve(number)
    if dest is None:
        raise NotFound("Country for this number")
    return Resolution(number=number, **msgspec.structs.asdict(dest))


async def book_keys() -> tuple[dict[str, set[str]], set[tuple[str, str]]]:
    """(ISO → the MCCs of its networks, every (MCC, MNC)), to check rates against the book."""
    mccs: dict[str, set[str]] = {}
    pairs: set[tuple[str, str]] = set()
    for r in await Network.select(Network.mcc, Network.mnc, Network.country.iso.as_alias("iso")):
        mccs.setdefault(r["iso"], set()).add(r["mcc"])
        pairs.add((r["mcc"], r["mnc"]))
    return mccs, pairs
