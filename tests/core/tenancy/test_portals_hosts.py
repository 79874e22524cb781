"""Host header → portal (TEN-2) and the sign-in page each portal shows."""

from __future__ import annotations

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
    from core.accounts.schemas import UserCreate
    from core.tenancy.bootstrap import create_owner
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
