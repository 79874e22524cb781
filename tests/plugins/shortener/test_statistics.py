"""URL-3: clicks per domain and per campaign over All/Day/Week/Month/Year, by OS and browser; isolated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    assert other.json()["stats"]["total"] == 0
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
    assert b_stats.json()["stats"]["total"] == 0
    assert (await other_client.get("/api/shortener/campaigns", headers=b_headers)).json() == []
    await sign_in(other_client, world.b.end_user_admin)
    assert (await other_client.get("/shortener")).status_code == 404  # no short domain: no shortener page
    assert 'href="/shortener"' not in (await other_client.get("/")).text
