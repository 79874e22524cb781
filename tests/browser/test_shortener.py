"""A real server and headless Chromium: a shortened campaign's clicks show by OS and browser, with charts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, api_client, demo_server, sign_in

pytestmark = pytest.mark.browser

DOMAIN = "go.localhost"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0.0.0 Mobile Safari/537.36"


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path) as running:
        yield running


async def _clicked_campaign(port: int, accounts: list[dict]) -> int:
    """The demo company (granted the demo's short domain) sends a shortened link; two recipients click."""
    role = {a["role"]: a for a in accounts}
    async with api_client(port, "reseller.localhost", role["end-user admin"]) as company:
        sender = (await company.get("/api/senders?channel=sms")).json()[0]["id"]
        body = {
            "name": "Spring links",
            "sender_id": sender,
            "text": "Spring sale https://shop.example.com/spring",
            "short_url": "https://shop.example.com/spring",
            "short_domain": DOMAIN,
            "numbers": ["+4915100000001", "+4915100000002"],
        }
        created = await company.post("/api/campaigns", json=body)
        assert created.status_code == 201, created.text
        campaign = created.json()["id"]
        for _ in range(300):
            if (await company.get(f"/api/campaigns/{campaign}")).json()["status"] == "completed":
                break
            await asyncio.sleep(0.2)
        edrs = (await company.get("/api/edrs", params={"campaign_id": campaign})).json()["items"]
        codes = [re.search(r"go\.localhost/([A-Za-z0-9]+)", e["text"]).group(1) for e in edrs]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"Host": DOMAIN}) as phone:
            for code, agent in zip(codes, [IPHONE, ANDROID], strict=True):
                answer = await phone.get(f"/{code}", headers={"User-Agent": agent})
                assert answer.status_code == 302 and answer.headers["location"] == body["short_url"]
        url = f"/api/shortener/campaigns/{campaign}/statistics"
        for _ in range(100):
            if (await company.get(url)).json()["stats"]["total"] == 2:
                break
            await asyncio.sleep(0.1)
    return campaign


async def test_a_company_sees_its_shortened_campaigns_clicks(demo):
    port, accounts = demo
    campaign = await _clicked_campaign(port, accounts)
    user = next(a for a in accounts if a["role"] == "end-user admin")
    owner = next(a for a in accounts if a["role"] == "system owner admin")
    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1360, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            base = f"http://reseller.localhost:{port}"
            await sign_in(page, base, user["email"], user["password"])
            await page.click('a[href="/shortener"]')
            await page.click(f'a[href="/shortener?period=all&campaign_id={campaign}"]')
            assert await page.locator('[data-testid="total-clicks"]').inner_text() == "2"
            assert await page.locator("canvas").count() == 3  # by day, by OS, by browser
            assert await page.locator("table.chart-table th", has_text="iOS").count() == 1
            await page.screenshot(path=str(SHOTS / "shortener-statistics.png"), full_page=True)
            await page.goto(f"{base}/campaigns/new")
            assert await page.locator('[data-testid="short-link"]').count() == 1
            await page.screenshot(path=str(SHOTS / "shortener-wizard.png"), full_page=True)

            admin = await browser.new_page(viewport={"width": 1360, "height": 900})
            home = f"http://demo.localhost:{port}"
            await sign_in(admin, home, owner["email"], owner["password"])
            await admin.goto(f"{home}/admin/short-domains")
            assert await admin.locator("code", has_text=DOMAIN).count() == 1
            await admin.screenshot(path=str(SHOTS / "shortener-admin-domains.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()
