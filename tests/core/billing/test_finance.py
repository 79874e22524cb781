"""Finance history (BIL-7): the company's own balance changes — filters, pages, details, CSV/XLSX, isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from python_calamine import CalamineWorkbook

from core.accounts.tables import User
from core.billing.services import change_balance
from core.billing.tables import LedgerEntry
from core.db import write_transaction
from tests.factories import World, api_token, make_world, sign_in

LINES = [
    {
        "country": "Spain",
        "network": "Vodafone",
        "mccmnc": "21401",
        "quantity": 2,
        "parts": 2,
        "rate": 40_000,
        "total": 80_000,
    },
    {
        "country": "Spain",
        "network": "Orange",
        "mccmnc": "21403",
        "quantity": 1,
        "parts": 1,
        "rate": 50_000,
        "total": 50_000,
    },
]


async def _book(world: World) -> dict[str, int]:
    """Four changes of tenant A's end user (one on 1 December 02:00 UTC) and one of tenant B's."""
    ids: dict[str, int] = {}
    async with write_transaction():
        ids["manual"] = await change_balance(
            world.a.end_user_id, 100_000_000, kind="manual", description="Bank transfer 42", initiator=None
        )
        ids["campaign"] = await change_balance(
            world.a.end_user_id,
            -130_000,
            kind="campaign",
            description="Campaign Spring sale",
            initiator=None,
            details={"campaign_id": 7, "lines": LINES},
        )
        ids["api"] = await change_balance(
            world.a.end_user_id, -40_000, kind="api", description='=HYPERLINK("http://evil.test","x")', initiator=None
        )
        ids["old"] = await change_balance(
            world.a.end_user_id, 5_000_000, kind="manual", description="Old", initiator=None
        )
        ids["other"] = await change_balance(
            world.b.end_user_id, 7_000_000, kind="manual", description="Tenant B's", initiator=None
        )
    await LedgerEntry.update({LedgerEntry.created_at: datetime(2026, 12, 1, 2, 0, tzinfo=UTC)}).where(
        LedgerEntry.id == ids["old"]
    )
    return ids


async def test_the_api_lists_only_the_own_company_filtered_and_paged(client_for):
    world = await make_world()
    ids = await _book(world)
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    listed = (await client.get("/api/finance", headers=headers)).json()
    assert [e["description"] for e in listed["items"]][:3] == [
        "Old",
        '=HYPERLINK("http://evil.test","x")',
        "Campaign Spring sale",
    ]
    assert "Tenant B's" not in {e["description"] for e in listed["items"]} and listed["total"] == 4
    campaigns = (await client.get("/api/finance?kind=campaign", headers=headers)).json()
    assert [e["amount"] for e in campaigns["items"]] == ["-0.13"]
    paged = (await client.get("/api/finance?per_page=2&page=2", headers=headers)).json()
    assert paged["total"] == 4 and [e["id"] for e in paged["items"]] == [ids["campaign"], ids["manual"]]
    window = "created_from=2026-12-01T00:00:00Z&created_to=2026-12-02T00:00:00Z"
    assert [e["id"] for e in (await client.get(f"/api/finance?{window}", headers=headers)).json()["items"]] == [
        ids["old"]
    ]
    refused = await client.get("/api/finance?kind=bonus", headers=headers)
    assert refused.status_code == 400 and "kind" in refused.text


async def test_one_change_shows_its_breakdown_and_another_company_s_is_missing(client_for):
    world = await make_world()
    ids = await _book(world)
    world.b.ledger_entry_id = ids["other"]
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    entry = (await client.get(f"/api/finance/{ids['campaign']}", headers=headers)).json()
    assert entry["campaign_id"] == 7 and entry["kind"] == "campaign"
    assert [(line["mccmnc"], line["quantity"], line["rate"], line["total"]) for line in entry["lines"]] == [
        ("21401", 2, "0.04", "0.08"),
        ("21403", 1, "0.05", "0.05"),
    ]
    assert (await client.get(f"/api/finance/{ids['other']}", headers=headers)).status_code == 404
    operator = await api_token(client, world.a.end_user_operator)
    assert (await client.get("/api/finance", headers=operator)).status_code == 403


async def test_exports_repeat_each_breakdown_line_and_neutralise_formulas(client_for):
    world = await make_world()
    await _book(world)
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    response = await client.get("/api/finance/export?format=csv", headers=headers)
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["Date", "Type", "Amount"] and len(rows) == 1 + 5  # the campaign's two lines: two rows
    by_description = {}
    for row in rows[1:]:
        by_description.setdefault(row[6], []).append(row)
    assert '\'=HYPERLINK("http://evil.test","x")' in by_description  # text, never a formula
    campaign = by_description["Campaign Spring sale"]
    assert [(r[2], r[7], r[10], r[11], r[13], r[14]) for r in campaign] == [
        ("-0.13", "7", "21401", "2", "0.04", "0.08"),
        ("-0.13", "7", "21403", "1", "0.05", "0.05"),
    ]
    assert "Tenant B's" not in by_description
    only_api = await client.get("/api/finance/export?format=xlsx&kind=api", headers=headers)
    assert only_api.status_code == 200
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(only_api.content)).get_sheet_by_name("Finance").to_python()
    assert len(sheet) == 2 and sheet[1][1] == "API" and sheet[1][6].startswith("'=HYPERLINK")


async def test_the_finance_page_filters_by_the_user_s_days_and_explains_empty_results(client_for):
    world = await make_world()
    ids = await _book(world)
    # 1 December 02:00 UTC is still 30 November in New York.
    await User.update({User.timezone: "America/New_York"}).where(User.email == world.a.end_user_admin)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get("/finance")
    assert page.status_code == 200 and "Bank transfer 42" in page.text and "Tenant B" not in page.text
    assert 'href="/finance"' in page.text  # the menu link
    november = await client.get("/finance?date_from=2026-11-30&date_to=2026-11-30")
    assert f'href="/finance/{ids["old"]}"' in november.text and "Bank transfer 42" not in november.text
    empty = await client.get("/finance?kind=pack")
    assert "No balance change matches these filters." in empty.text
    bad = await client.get("/finance?date_from=30/11/2026")
    assert bad.status_code == 422 and "date_from" in bad.text
    details = await client.get(f"/finance/{ids['campaign']}")
    assert details.status_code == 200 and "21403" in details.text and "/campaigns/7" in details.text
    assert (await client.get(f"/finance/{ids['other']}")).status_code == 404
    download = await client.get("/finance/export?kind=manual&format=csv")
    assert download.status_code == 200 and "Bank transfer 42" in download.text and "Spring sale" not in download.text


async def test_operators_see_no_finance(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_operator)
    home = await client.get("/")
    assert 'href="/finance"' not in home.text
    assert (await client.get("/finance")).status_code == 403
