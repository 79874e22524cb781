"""NUM-1/NUM-3: the owner's numbering book, its CSV loading, and prefix → network resolution."""

from __future__ import annotations

import pytest

from core.errors import Conflict, NotFound
from core.numbering import services
from core.numbering.book import CsvError
from core.numbering.schemas import CountryIn, NetworkIn, NetworkUpdate
from core.numbering.services import Destination, load_book, load_seed, prefix_index
from core.numbering.tables import Country, Network, Prefix
from tests.factories import make_world

HEADER = "country_iso,country,dial_code,mcc,mnc,network,prefixes\n"


async def test_seed_book_resolves_by_longest_prefix_and_falls_back_to_all_networks():
    summary = await load_seed()
    assert summary.countries >= 10 and summary.prefixes > 100
    index = await prefix_index()
    assert index.resolve("34609123456") == Destination("ES", "Spain", "214", "07", "Movistar")
    assert index.resolve("38763123456") == Destination("BA", "Bosnia and Herzegovina", "218", "03", "HT Eronet")
    # A Spanish number outside every network's range: the country's All networks.
    assert index.resolve("34911234567") == Destination("ES", "Spain", "214", "", "All networks")
    # No country code of the book.
    assert index.resolve("86131234567") is None


async def test_longer_prefix_wins_over_shorter_one():
    await load_book(
        None,
        (
            HEADER + "ES,Spain,34,214,,All networks,\n"
            "ES,Spain,34,214,01,Vodafone,3461\n"
            "ES,Spain,34,214,07,Movistar,346123\n"
        ).encode(),
    )
    index = await prefix_index()
    assert index.resolve("34612345678").network == "Movistar"
    assert index.resolve("34619999999").network == "Vodafone"
    assert index.resolve("34700000000").mnc == ""


async def test_country_without_all_networks_row_gets_one():
    await load_book(None, (HEADER + "RS,Serbia,381,220,05,A1,38168\n").encode())
    assert (await prefix_index()).resolve("381601234567") == Destination("RS", "Serbia", "220", "", "All networks")


async def test_index_is_rebuilt_after_a_change_of_the_book():
    world = await make_world()
    await load_seed()
    before = await prefix_index()
    assert await prefix_index() is before  # unchanged book: the same cached index
    assert before.resolve("34699000111").mnc == ""
    movistar = (await services.list_networks(world.owner, query="Movistar")).items[0]
    await services.update_network(world.owner, movistar.id, NetworkUpdate(prefixes=[*movistar.prefixes, "34699"]))
    after = await prefix_index()
    assert after is not before
    assert after.resolve("34699000111").network == "Movistar"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("ES,Spain,34,214,,All networks,\nES,Spain,34,2140,01,Vodafone,3461\n", "Row 3, mcc: 3 digits"),
        ("ES,Spain,34,214,01,Vodafone,3461 34x2\n", "Row 2, prefixes: '34x2' is not 1 to 15 digits"),
        (
            "ES,Spain,34,214,01,Vodafone,3461\nES,Spain,34,214,03,Orange,3461\n",
            "Row 3, prefixes: 3461 is already in row 2",
        ),
        ("ES,Spain,34,214,01,Vodafone,4961\n", "Row 2, prefixes: 4961 does not start with the dial code 34"),
        ("ES,Spain,34,214,01,Vodafone,\nES,Spain,35,214,03,Orange,\n", "Row 3, dial_code: ES has dial code 34"),
        ("E1,Spain,34,214,01,Vodafone,\n", "Row 2, country_iso: two letters"),
        ("ES,Spain,34,214,01,,3461\n", "Row 2, network: required"),
    ],
)
async def test_bad_csv_names_row_and_field_and_keeps_the_old_book(body, message):
    await load_seed()
    before = await services.summary()
    with pytest.raises(CsvError) as caught:
        await load_book(None, (HEADER + body).encode())
    assert message in caught.value.detail
    assert await services.summary() == before


async def test_csv_without_the_columns_is_refused():
    with pytest.raises(CsvError, match="Row 1, header: missing column"):
        await load_book(None, b"iso,name\nES,Spain\n")
    assert await Country.count() == 0


async def test_upload_replaces_the_whole_book():
    await load_seed()
    await load_book(None, (HEADER + "BA,Bosnia,387,218,90,BH Mobile,38761\n").encode())
    assert [r["iso"] for r in await Country.select(Country.iso)] == ["BA"]
    assert await Network.count() == 2 and await Prefix.count() == 1


async def test_owner_edits_countries_and_networks():
    world = await make_world()
    country = await services.create_country(
        world.owner, CountryIn(iso="PT", name="Portugal", mcc="268", dial_code="351")
    )
    network = await services.create_network(
        world.owner, NetworkIn(country_iso="PT", mcc="268", mnc="06", name="MEO", prefixes=["35196"])
    )
    index = await prefix_index()
    assert index.resolve("351961234567") == Destination("PT", "Portugal", "268", "06", "MEO")
    assert index.resolve("351931234567") == Destination("PT", "Portugal", "268", "", "All networks")
    with pytest.raises(Conflict, match="35196 already belongs to MEO"):
        await services.create_network(
            world.owner, NetworkIn(country_iso="PT", mcc="268", mnc="01", name="Vodafone", prefixes=["35196"])
        )
    with pytest.raises(Conflict, match="keeps its All networks row"):
        all_networks = (await services.list_networks(world.owner, country="PT", query="All networks")).items[0]
        await services.delete_network(world.owner, all_networks.id)
    await services.delete_network(world.owner, network.id)
    assert (await prefix_index()).resolve("351961234567").mnc == ""
    await services.delete_country(world.owner, country.id)
    assert (await prefix_index()).resolve("351961234567") is None


async def test_search_finds_networks_by_name_mccmnc_and_number():
    world = await make_world()
    await load_seed()
    by_name = await services.list_networks(world.owner, query="kyivstar")
    assert [n.mccmnc for n in by_name.items] == ["25503"]
    by_mccmnc = await services.list_networks(world.owner, query="21807")
    assert by_mccmnc.total == 0
    assert [n.name for n in (await services.list_networks(world.owner, query="21803")).items] == ["HT Eronet"]
    by_number = await services.list_networks(world.owner, query="+38763 123 456")
    assert "HT Eronet" in [n.name for n in by_number.items]
    spain = await services.list_networks(world.owner, country="ES", per_page=2)
    assert spain.total == 5 and len(spain.items) == 2 and spain.items[0].name == "All networks"


async def test_only_the_owner_reaches_the_book():
    world = await make_world()
    from core.accounts.services import load_actor
    from core.accounts.tables import User

    reseller_user = await User.select(User.id).where(User.email == world.a.reseller_admin).first()
    reseller = await load_actor(reseller_user["id"], 0, check_portal=False)
    with pytest.raises(NotFound):
        await services.list_networks(reseller)
    with pytest.raises(NotFound):
        await load_book(reseller, (HEADER + "BA,Bosnia,387,218,90,BH Mobile,38761\n").encode())
