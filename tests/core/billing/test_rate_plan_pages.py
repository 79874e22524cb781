"""Rate plans in the Admin Panel and the REST API: list, create with errors, rates by CSV, assignment."""

from __future__ import annotations

from core.numbering.services import load_seed
from tests.factories import api_token, make_world, post_form, sign_in


async def reseller_session(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    return world, client


async def test_list_filter_and_empty_state(client_for):
    _world, client = await reseller_session(client_for)
    page = await client.get("/admin/rate-plans")
    assert page.status_code == 200 and "SMS A" in page.text and "SMS B" not in page.text
    assert 'href="/admin/rate-plans"' in page.text  # the Admin Panel menu entry
    none = await client.get("/admin/rate-plans", params={"channel": "viber"})
    assert "No rate plan matches this search." in none.text


async def test_create_form_shows_field_errors_then_creates(client_for):
    _world, client = await reseller_session(client_for)
    bad = await post_form(client, "/admin/rate-plans", {"name": "", "channel": "sms", "mode": "submitted"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text and "required" in bad.text
    ok = await post_form(client, "/admin/rate-plans", {"name": "Promo", "channel": "sms", "mode": "delivered"})
    assert ok.status_code in (302, 303)
    page = (await client.get(ok.headers["location"])).text
    assert "Promo" in page and "By Delivered" in page and "No rates yet" in page


async def test_rates_upload_error_and_success_on_the_plan_page(client_for):
    world, client = await reseller_session(client_for)
    await load_seed()
    url = f"/admin/rate-plans/{world.a.rate_plan_id}"
    await client.get(url)
    csrf = {"_csrf_token": client.cookies.get("csrftoken", "")}
    bad = await client.post(
        url + "/rates/upload", files={"file": ("r.csv", b"country_iso,mcc,mnc,price\nES,214,07,cheap\n")}, data=csrf
    )
    assert bad.status_code == 422 and "Row 2, price: &#39;cheap&#39; is not an amount" in bad.text
    good = await client.post(
        url + "/rates/upload",
        files={"file": ("r.csv", b"country_iso,mcc,mnc,price\nES,214,07,0.031\nES,214,,0.045\n")},
        data=csrf,
    )
    assert good.status_code in (302, 303)
    page = (await client.get(url)).text
    assert "0.031" in page and "All networks" in page and "Company A" in page


async def test_api_assigns_within_the_subtree_only(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.reseller_admin)
    created = await client.post("/api/admin/rate-plans", headers=headers, json={"name": "Gold", "channel": "sms"})
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    assigned = await client.post(
        f"/api/admin/rate-plans/{plan_id}/assignments", headers=headers, json={"partner_id": world.a.end_user_id}
    )
    assert assigned.status_code == 201 and assigned.json()["plan_name"] == "Gold"
    plans = (await client.get(f"/api/admin/partners/{world.a.end_user_id}/rate-plans", headers=headers)).json()
    assert [(p["channel"], p["plan_name"]) for p in plans] == [("sms", "Gold")]
    foreign = await client.post(
        f"/api/admin/rate-plans/{plan_id}/assignments", headers=headers, json={"partner_id": world.b.end_user_id}
    )
    assert foreign.status_code == 404
