"""Host header → portal (TEN-2) and the sign-in page each portal shows."""

from __future__ import annotations

import msgspec
import pytest

from core.tenancy.resolver import absolute_url, resolver
from tests.factories import make_world


async def test_known_hosts_reach_their_own_portal(client_for):
    await make_world()
    page_a = await client_for("a.test").get("/login")
    page_b = await client_for("B.TEST:8443").get("/login")
    assert page_a.status_code == 200 and "Brand a" in page_a.text
    assert page_b.status_code == 200 and "Brand b" in page_b.text and "Brand a" not in page_b.text


async def test_unknown_host_gets_a_plain_404_page(client_for):
    await make_world()
    response = await client_for("elsewhere.example").get("/login")
    assert response.status_code == 404
    assert "Portal not found" in response.text
    assert "Brand a" not in response.text and "Main Portal" not in response.text


async def test_a_single_portal_serves_every_host(client_for):
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.tenancy.schemas import PortalCreate
    from core.tenancy.services import create_portal

    owner = await create_owner(
        "Solo", "EUR", UserCreate(email="solo@x.test", first_name="S", last_name="O", password="0123456789ab")
    )
    await create_portal(owner, PortalCreate(slug="solo", brand_name="Solo Portal", hosts=["solo.test"]))
    response = await client_for("127.0.0.1:8000").get("/login")
    assert response.status_code == 200 and "Solo Portal" in response.text


async def test_health_needs_no_portal(client_for):
    response = await client_for("nothing.example").get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] and response.json()["redis"]["ok"]


@pytest.mark.parametrize(
    "host",
    [
        "a.test:@evil.example",  # user-info: a browser would go to evil.example
        "evil.example@a.test",
        "a.test:99999",
        "a.test:0",
        "a.test:",
        "a.test:80:80",
        "a.test/evil",
        "a.test evil",
        "[::1",
        "",
    ],
)
async def test_malformed_host_headers_are_refused_with_400(client_for, host):
    await make_world()
    client = client_for("a.test")
    response = await client.get("/login", headers={"Host": host})
    assert response.status_code == 400 and "Brand a" not in response.text
    assert (await client.get("/healthz", headers={"Host": host})).status_code == 400  # refused before any route


async def test_two_host_headers_are_refused(client_for):
    await make_world()
    client = client_for("a.test")
    response = await client.get("/login", headers=[("Host", "a.test"), ("Host", "evil.example")])
    assert response.status_code == 400


async def test_well_formed_hosts_with_ports_and_a_final_dot_still_reach_their_portal(client_for):
    await make_world()
    client = client_for("a.test")
    for host in ("a.test.", "A.Test:65535"):
        response = await client.get("/login", headers={"Host": host})
        assert response.status_code == 200 and "Brand a" in response.text
    assert (await client.get("/login", headers={"Host": "[::1]:8000"})).status_code == 404  # well-formed, unknown


async def test_absolute_urls_name_the_scheme_and_port_of_the_settings(settings):
    await make_world()
    site = await resolver.resolve("a.test")
    assert site is not None

    def url(scheme: str, port: int) -> str:
        return absolute_url(msgspec.structs.replace(settings, public_scheme=scheme, public_port=port), site, "/x?y=1")

    assert url("https", 0) == url("https", 443) == "https://a.test/x?y=1"
    assert url("http", 80) == "http://a.test/x?y=1" and url("http", 8000) == "http://a.test:8000/x?y=1"
    assert url("https", 8443) == "https://a.test:8443/x?y=1"
