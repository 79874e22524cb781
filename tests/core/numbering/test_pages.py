"""The numbering book in the Admin Panel and the REST API: owner only, search, upload with its errors."""

from __future__ import annotations

from core.numbering.services import SEED_CSV
from tests.factories import api_token, make_world, sign_in


async def owner_client(client_for):
    world = await make_world()
    client = client_for(world.owner_host)
    await sign_in(client, "owner@main.test")
    return world, client


async def test_owner_uploads_the_book_and_searches_it(client_for):
    _world, client = await owner_client(client_for)
    page = await client.get("/admin/numbering")
    assert page.status_code == 200 and "Numbering" in page.text and "Upload a book" in page.text
    response = await client.post(
        "/admin/numbering/upload",
        files={"file": ("e212.csv", SEED_CSV.read_bytes())},
        data={"_csrf_token": client.cookies.get("csrftoken", "")},
    )
    assert response.status_code in (302, 303)
    page = await client.get(response.headers["location"])
    assert "Book loaded: 10 countries" in page.text
    found = (await client.get("/admin/numbering", params={"q": "+38763 123"})).text
    assert "HT Eronet" in found and "Kyivstar" not in found
    empty = (await client.get("/admin/numbering", params={"q": "Atlantis"})).text
    assert "No network matches this search." in empty


async def test_a_bad_upload_says_which_row_and_column(client_for):
    _world, client = await owner_client(client_for)
    bad = b"country_iso,country,dial_code,mcc,mnc,network,prefixes\nES,Spain,34,21,01,Vodafone,3461\n"
    response = await client.post(
        "/admin/numbering/upload",
        files={"file": ("bad.csv", bad)},
        data={"_csrf_token": client.cookies.get("csrftoken", "")},
    )
    assert response.status_code == 422
    assert "Row 2, mcc: 3 digits" in response.text
    assert "Vodafone" in response.text  # the book of make_world is still there


async def test_network_form_shows_field_errors(client_for):
    _world, client = await owner_client(client_for)
    await client.get("/admin/numbering/networks/new")
    response = await client.post(
        "/admin/numbering/networks",
        data={
            "country_iso": "ES",
            "name": "Digi",
            "mcc": "214",
            "mnc": "22",
            "prefixes": "34607",
            "_csrf_token": client.cookies.get("csrftoken", ""),
        },
    )
    assert response.status_code == 409
    assert "34607 already belongs to Vodafone" in response.text and 'class="field-error"' in response.text


async def test_book_is_404_for_resellers_and_in_the_api_for_the_owner(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    assert (await client.get("/admin/numbering")).status_code == 404
    assert "/admin/numbering" not in (await client.get("/admin/partners")).text
    owner_api = client_for(world.owner_host)
    headers = await api_token(owner_api, "owner@main.test")
    resolved = await owner_api.get(
        "/api/admin/numbering/resolve", params={"number": "+34 607 123 456"}, headers=headers
    )
    assert resolved.json() == {
        "number": "34607123456",
        "country_iso": "ES",
        "country": "Spain",
        "mcc": "214",
        "mnc": "01",
        "network": "Vodafone",
    }
    upload = await owner_api.post(
        "/api/admin/numbering/upload",
        headers=headers,
        files={
            "file": (
                "b.csv",
                b"country_iso,country,dial_code,mcc,mnc,network,prefixes\nBA,Bosnia,387,218,90,BH,38761\n",
            )
        },
    )
    assert upload.status_code == 200 and upload.json() == {"countries": 1, "networks": 2, "prefixes": 1}
    schema = (await owner_api.get("/schema/openapi.json")).json()
    assert "/api/admin/numbering/networks" in schema["paths"]
