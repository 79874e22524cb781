"""EDR table (STA-1 first cut): today's latest records by default, filters, details, API, scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.accounts.tables import User
from core.dispatch.tables import Edr
from core.statistics.schemas import EdrFilter
from core.statistics.services import get_edr, list_edrs
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.contacts.helpers import actor_of
from tests.factories import api_token, make_world, post_form, sign_in


async def edr(partner: int, **fields) -> int:
    row = {
        "partner": partner,
        "channel": "sms",
        "sender": "BrandA",
        "destination": "34612345678",
        "status": "DELIVERED",
        "created_at": datetime.now(UTC),
        **fields,
    }
    return (await Edr.insert(Edr(**row)).returning(Edr.id))[0]["id"]


async def test_filters_scope_and_details(app, client_for):
    world = await make_world()
    actor = await actor_of(world.a)
    campaign = await scheduled_campaign(app, actor, world.a)
    by_campaign = await edr(
        world.a.end_user_id,
        campaign=campaign.id,
        vendor_message_id="vm-1",
        transaction_id="tx-1",
        country="Spain",
        network="Vodafone",
        mccmnc="21401",
        rate=40_000,
        price=80_000,
        parts=2,
    )
    by_api = await edr(world.a.end_user_id, status="FAILED", error="No rate", destination="34699000111")
    old = await edr(world.a.end_user_id, created_at=datetime.now(UTC) - timedelta(days=3))
    foreign = await edr(world.b.end_user_id)

    everything = await list_edrs(actor, EdrFilter())
    assert [e.id for e in everything.items] == [old, by_api, by_campaign]
    assert [e.id for e in (await list_edrs(actor, EdrFilter(source="campaign"))).items] == [by_campaign]
    assert [e.id for e in (await list_edrs(actor, EdrFilter(source="api"))).items] == [old, by_api]
    assert [e.id for e in (await list_edrs(actor, EdrFilter(status="failed"))).items] == [by_api]
    assert [e.id for e in (await list_edrs(actor, EdrFilter(recipient="699"))).items] == [by_api]
    assert [e.id for e in (await list_edrs(actor, EdrFilter(campaign_id=campaign.id))).items] == [by_campaign]
    details = await get_edr(actor, by_campaign)
    assert details.campaign_name == "Spring sale" and str(details.price) == "0.08" and details.parts == 2

    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    html = (await client.get("/statistics/edr")).text  # today by default: the old record is not there
    assert f'href="/statistics/edr/{by_campaign}"' in html and f'href="/statistics/edr/{old}"' not in html
    assert "2 rows" in html
    everyday = (await client.get("/statistics/edr?date_from=&date_to=")).text
    assert f'href="/statistics/edr/{old}"' in everyday
    api_only = (await client.get("/statistics/edr?source=api")).text
    assert f'href="/statistics/edr/{by_api}"' in api_only and f'href="/statistics/edr/{by_campaign}"' not in api_only
    page = (await client.get(f"/statistics/edr/{by_campaign}")).text
    for text in ("vm-1", "tx-1", "21401", "Vodafone", "0.04 EUR", "0.08 EUR", "Spring sale"):
        assert text in page, text
    assert (await client.get(f"/statistics/edr/{foreign}")).status_code == 404
    panel = await client.get(f"/statistics/edr/{by_campaign}", headers={"HX-Request": "true"})  # the table's window
    assert 'data-testid="edr-panel"' in panel.text and "<html" not in panel.text
    assert "Spring sale" in panel.text and "tx-1" in panel.text
    assert (await client.get(f"/statistics/edr/{foreign}", headers={"HX-Request": "true"})).status_code == 404
    assert (await client.get("/statistics/edr?date_from=nope")).status_code == 422

    headers = {"Authorization": f"Bearer {world.a.api_key}"}
    listed = (await client.get("/api/edrs?source=campaign", headers=headers)).json()
    assert [e["id"] for e in listed["items"]] == [by_campaign] and listed["per_page"] == 150
    assert (await client.get(f"/api/edrs/{by_api}", headers=headers)).json()["error"] == "No rate"
    assert (await client.get(f"/api/edrs/{foreign}", headers=headers)).status_code == 404


async def test_every_field_filters_the_same_on_the_page_and_the_api(app, client_for):
    world = await make_world()
    actor = await actor_of(world.a)
    fr = await edr(world.a.end_user_id, sender="ShopFR", country_iso="FR", country="France", network="Orange FR")
    es = await edr(
        world.a.end_user_id, transaction_id="tx-77", country_iso="ES", country="Spain", network="Vodafone ES"
    )
    await edr(world.b.end_user_id, sender="ShopFR", transaction_id="tx-77")  # another tenant's, never listed

    cases = [
        ({"sender": "ShopFR"}, [fr]),
        ({"transaction_id": "tx-77"}, [es]),
        ({"country": "fr"}, [fr]),  # two letters: the ISO code
        ({"country": "spa"}, [es]),  # otherwise part of the name
        ({"network": "vodafone"}, [es]),
        ({"sender": "ShopFR", "country": "ES"}, []),
    ]
    for fields, expected in cases:
        assert [e.id for e in (await list_edrs(actor, EdrFilter(**fields))).items] == expected, fields

    client = client_for(world.a.host)
    headers = {"Authorization": f"Bearer {world.a.api_key}"}
    await sign_in(client, world.a.end_user_admin)
    for fields, expected in cases:
        listed = (await client.get("/api/edrs", params=fields, headers=headers)).json()
        assert [e["id"] for e in listed["items"]] == expected, fields
        html = (await client.get("/statistics/edr", params=fields)).text
        assert [i for i in (fr, es) if f'href="/statistics/edr/{i}"' in html] == expected, fields


async def test_table_settings_order_and_hide_the_edr_columns_per_user(app, client_for):
    world = await make_world()
    await edr(world.a.end_user_id, transaction_id="tx-shown", sender="HiddenSnd")
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    html = (await client.get("/statistics/edr")).text
    assert "HiddenSnd" in html and "tx-shown" not in html  # the transaction id starts hidden
    columns = ["transaction_id", "created_at", "destination", "sender", "status"]
    saved = await post_form(
        client, "/statistics/edr/columns", {"columns": columns, "visible": ["transaction_id", "created_at", "status"]}
    )
    assert saved.status_code in (302, 303) and "done=columns" in saved.headers["location"]
    html = (await client.get("/statistics/edr")).text
    assert "tx-shown" in html and "HiddenSnd" not in html
    head = html[html.index("<thead>") : html.index("</thead>")]
    assert head.index("Transaction ID") < head.index("Created") < head.index("Status")
    moved = await post_form(
        client,
        "/statistics/edr/columns",
        {"columns": columns, "visible": ["transaction_id", "created_at", "status"], "down": "transaction_id"},
    )
    assert "settings=1" in moved.headers["location"]
    head = (await client.get("/statistics/edr")).text.split("<thead>")[1].split("</thead>")[0]
    assert head.index("Created") < head.index("Transaction ID")
    form = (await client.get("/statistics/edr/export")).text  # the export starts from the columns shown
    ticked = {key for key in ("transaction_id", "created_at", "status", "sender") if f'value="{key}" checked' in form}
    assert ticked == {"transaction_id", "created_at", "status"}
    nothing = await post_form(client, "/statistics/edr/columns", {"columns": columns})
    assert nothing.status_code == 422 and "Keep at least one column visible" in nothing.text

    other = client_for(world.a.host)  # another user of the same company keeps the default table
    await sign_in(other, world.a.end_user_operator)
    assert "HiddenSnd" in (await other.get("/statistics/edr")).text


async def test_a_reseller_reads_its_subtree_only_and_narrows_it_to_one_company(app, client_for):
    world = await make_world()
    client_edr = await edr(world.a.end_user_id, sender="ClientA")
    own_edr = await edr(world.a.reseller_id, sender="ResellerA")
    foreign = await edr(world.b.end_user_id, sender="ClientB")
    reseller = await actor_of(world.a, world.a.reseller_admin)
    assert [e.id for e in (await list_edrs(reseller, EdrFilter())).items] == [own_edr, client_edr]
    narrowed = await list_edrs(reseller, EdrFilter(client_id=world.a.end_user_id))
    assert [e.id for e in narrowed.items] == [client_edr]
    assert (await list_edrs(reseller, EdrFilter(client_id=world.b.end_user_id))).items == []
    assert (await get_edr(reseller, client_edr)).partner_id == world.a.end_user_id

    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    html = (await client.get("/statistics/edr")).text
    assert "Company A" in html and "ClientA" in html and "ResellerA" in html and "ClientB" not in html
    one = (await client.get(f"/statistics/edr?client_id={world.a.end_user_id}")).text
    assert f'value="{world.a.end_user_id}" selected' in one and "ResellerA" not in one
    assert 'data-testid="company">Company A<' in (await client.get(f"/statistics/edr/{client_edr}")).text
    assert (await client.get(f"/statistics/edr/{foreign}")).status_code == 404
    headers = await api_token(client, world.a.reseller_admin)
    listed = (await client.get(f"/api/edrs?client_id={world.a.end_user_id}", headers=headers)).json()
    assert [e["id"] for e in listed["items"]] == [client_edr]
    assert (await client.get(f"/api/edrs/{foreign}", headers=headers)).status_code == 404

    end_user = client_for(world.a.host)  # the company below never sees its reseller's records
    await sign_in(end_user, world.a.end_user_admin)
    assert (await end_user.get(f"/statistics/edr/{own_edr}")).status_code == 404
    assert "ResellerA" not in (await end_user.get("/statistics/edr")).text


async def test_one_record_s_status_reads_in_the_singular(app, client_for):
    world = await make_world()
    delivered = await edr(world.a.end_user_id)
    await User.update({User.language: "es"}).where(User.email == world.a.end_user_admin)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    table = (await client.get("/statistics/edr")).text
    # One message is "Entregado"; "Entregados" is the dashboard's count of them.
    assert '<span class="badge edr-delivered">Entregado</span>' in table and "Entregados" not in table
    assert ">Entregado<" in (await client.get(f"/statistics/edr/{delivered}")).text
