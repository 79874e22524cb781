"""URL-3: clicks per domain and per campaign over All/Day/Week/Month/Year, by OS and browser; isolated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.accounts.tables import User
from core.providers import PartnerScope, active_shortener
from core.statistics import dashboard as dashboard_module
from core.tenancy.tables import Partner
from plugins.shortener.tables import LinkClick
from tests.core.dispatch.conftest import SmsWorld
from tests.factories import api_token, sign_in
from tests.plugins.shortener.conftest import ANDROID_CHROME, DOMAIN, IPHONE, clicks_stored
from tests.plugins.shortener.test_links import _shortened


async def test_statistics_per_period_domain_and_campaign(app, sms: SmsWorld, client_for):
    campaign_id, codes = await _shortened(app, sms, ["34612000001", "34612000002"])
    phone = client_for(DOMAIN)
    for code, agent in [(codes[0], IPHONE), (codes[0], IPHONE), (codes[1], ANDROID_CHROME)]:
        assert (await phone.get(f"/{code}", headers={"User-Agent": agent})).status_code == 302

    await clicks_stored(app.state.portal, 3)
    # An older click of the same link: inside Month and Year, outside Day and Week.
    old = (await LinkClick.select().first()) | {"clicked_at": datetime.now(UTC) - timedelta(days=10), "entry": None}
    old.pop("id")
    await LinkClick.insert(LinkClick(**old))
    client = client_for(sms.tenant.host)
    headers = await api_token(client, sms.tenant.end_user_admin)
    url = f"/api/shortener/campaigns/{campaign_id}/statistics"
    totals = {}
    for period in ("all", "day", "week", "month", "year"):
        answer = await client.get(url, headers=headers, params={"period": period})
        assert answer.status_code == 200, answer.text
        totals[period] = answer.json()["stats"]["total"]
    assert totals == {"all": 4, "day": 3, "week": 3, "month": 4, "year": 4}
    day = (await client.get(url, headers=headers, params={"period": "day"})).json()["stats"]
    assert day["unique_recipients"] == 2
    assert dict(map(tuple, day["by_os"])) == {"iOS": 2, "Android": 1}
    assert dict(map(tuple, day["by_browser"])) == {"Mobile Safari": 2, "Chrome Mobile": 1}
    by_domain = await client.get("/api/shortener/statistics", headers=headers, params={"domain": DOMAIN})
    assert by_domain.json()["stats"]["total"] == 4
    other = await client.get("/api/shortener/statistics", headers=headers, params={"domain": "other.test"})
    assert other.status_code == 404  # not a short domain of this company
    bad = await client.get(url, headers=headers, params={"period": "decade"})
    assert bad.status_code == 400 and "period" in bad.text
    listed = (await client.get("/api/shortener/campaigns", headers=headers)).json()
    assert [(c["domain"], c["campaign_id"], c["links"]) for c in listed] == [(DOMAIN, campaign_id, 2)]

    await sign_in(client, sms.tenant.end_user_admin)
    page = await client.get("/shortener", params={"campaign_id": campaign_id, "period": "week"})
    assert page.status_code == 200
    assert "Clicks by operating system" in page.text and 'data-chart="doughnut"' in page.text and "iOS" in page.text
    assert 'href="/shortener"' in page.text  # the menu entry

    # The other company sees none of it: the campaign is a missing one, its clicks are not counted.
    world = sms.world
    other_client = client_for(world.b.host)
    b_headers = await api_token(other_client, world.b.end_user_admin)
    assert (await other_client.get(url, headers=b_headers)).status_code == 404
    b_stats = await other_client.get("/api/shortener/statistics", headers=b_headers, params={"domain": DOMAIN})
    assert b_stats.status_code == 404
    assert (await other_client.get("/api/shortener/statistics", headers=b_headers)).json()["stats"]["total"] == 0
    assert (await other_client.get("/api/shortener/campaigns", headers=b_headers)).json() == []
    await sign_in(other_client, world.b.end_user_admin)
    assert (await other_client.get("/shortener")).status_code == 404  # no short domain: no shortener page
    assert 'href="/shortener"' not in (await other_client.get("/")).text


async def test_a_reseller_sees_its_subtree_by_client_and_in_its_time_zone(app, sms: SmsWorld, client_for):
    campaign_id, codes = await _shortened(app, sms, ["34612000001", "34612000002"])
    phone = client_for(DOMAIN)
    for code, agent in [(codes[0], IPHONE), (codes[1], ANDROID_CHROME)]:
        assert (await phone.get(f"/{code}", headers={"User-Agent": agent})).status_code == 302
    await clicks_stored(app.state.portal, 2)
    # Two older clicks at 23:30 UTC two days ago: the next day in Tokyo (UTC+9, no summer time).
    late = datetime.now(UTC).replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=2)
    for row in await LinkClick.select():
        row.pop("id")
        await LinkClick.insert(LinkClick(**(row | {"clicked_at": late, "entry": None})))
    tenant, world = sms.tenant, sms.world
    await User.update({User.timezone: "Asia/Tokyo"}).where(User.email == tenant.reseller_admin)

    client = client_for(tenant.host)
    headers = await api_token(client, tenant.reseller_admin)
    url = f"/api/shortener/campaigns/{campaign_id}/statistics"
    whole = (await client.get(url, headers=headers)).json()
    assert whole["time_zone"] == "Asia/Tokyo" and whole["stats"]["total"] == 4
    tokyo_day = (late + timedelta(hours=9)).date().isoformat()
    assert tokyo_day != late.date().isoformat() and dict(map(tuple, whole["stats"]["by_day"]))[tokyo_day] == 2
    assert [c["id"] for c in whole["clients"]] == [tenant.end_user_id]
    by_domain = await client.get("/api/shortener/statistics", headers=headers, params={"domain": DOMAIN})
    assert by_domain.status_code == 200 and by_domain.json()["stats"]["total"] == 4
    one = await client.get(url, headers=headers, params={"client_id": tenant.end_user_id, "period": "week"})
    assert one.json()["stats"]["total"] == 4 and one.json()["client_id"] == tenant.end_user_id
    # Filtered to the reseller's own company (no campaign of its own), the client's campaign is a missing one.
    assert (await client.get(url, headers=headers, params={"client_id": tenant.reseller_id})).status_code == 404
    listed = (await client.get("/api/shortener/campaigns", headers=headers)).json()
    assert [(c["campaign_id"], c["links"]) for c in listed] == [(campaign_id, 2)]

    await sign_in(client, tenant.reseller_admin)
    page = await client.get("/shortener", params={"campaign_id": campaign_id, "client": tenant.end_user_id})
    assert page.status_code == 200 and "Asia/Tokyo" in page.text and 'name="client"' in page.text
    assert 'data-testid="total-clicks">4<' in page.text

    # Another reseller: that campaign, that domain and that client are all missing ones.
    other = client_for(world.b.host)
    b_headers = await api_token(other, world.b.reseller_admin)
    assert (await other.get(url, headers=b_headers)).status_code == 404
    assert (
        await other.get("/api/shortener/statistics", headers=b_headers, params={"domain": DOMAIN})
    ).status_code == 404
    params = {"client_id": tenant.end_user_id}
    assert (await other.get("/api/shortener/statistics", headers=b_headers, params=params)).status_code == 404
    assert (await other.get("/api/shortener/campaigns", headers=b_headers)).json() == []


async def test_a_subtree_too_big_to_list_reaches_the_shortener_as_its_path(app, sms: SmsWorld, client_for, monkeypatch):
    campaign_id, codes = await _shortened(app, sms, ["34612000001", "34612000002"])
    phone = client_for(DOMAIN)
    for code in codes:
        assert (await phone.get(f"/{code}", headers={"User-Agent": IPHONE})).status_code == 302
    await clicks_stored(app.state.portal, 2)
    monkeypatch.setattr(dashboard_module, "MAX_LISTED_PARTNERS", 1)
    shortener = active_shortener(app.state.portal.registries.shorteners)
    asked: list[PartnerScope] = []
    counted, grouped = shortener.statistics, shortener.link_groups

    async def statistics(partners: PartnerScope, **where: Any) -> Any:
        asked.append(partners)
        return await counted(partners, **where)

    async def link_groups(partners: PartnerScope) -> Any:
        asked.append(partners)
        return await grouped(partners)

    monkeypatch.setattr(shortener, "statistics", statistics)
    monkeypatch.setattr(shortener, "link_groups", link_groups)
    tenant, world = sms.tenant, sms.world
    client = client_for(tenant.host)
    headers = await api_token(client, tenant.reseller_admin)
    stats = await client.get("/api/shortener/statistics", headers=headers)
    assert stats.json()["stats"]["total"] == 2
    listed = (await client.get("/api/shortener/campaigns", headers=headers)).json()
    assert [(c["campaign_id"], c["links"]) for c in listed] == [(campaign_id, 2)]
    reseller_path = (await Partner.select(Partner.path).where(Partner.id == tenant.reseller_id).first())["path"]
    assert asked == [PartnerScope(subtree=reseller_path)] * 2  # no ids listed
    # Another reseller's subtree, as a path too, holds none of these links.
    other = client_for(world.b.host)
    b_headers = await api_token(other, world.b.reseller_admin)
    assert (await other.get("/api/shortener/statistics", headers=b_headers)).json()["stats"]["total"] == 0
    assert (await other.get("/api/shortener/campaigns", headers=b_headers)).json() == []
    assert asked[-1].subtree and asked[-1].subtree != reseller_path
