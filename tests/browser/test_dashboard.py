"""A real server and headless Chromium: the dashboard draws its graphs from its tables and changes period."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, api_client, demo_server, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path) as running:
        yield running


async def _sent_campaign(port: int, account: dict) -> None:
    """A campaign of the end user through the API, sent to the demo's stand-in SMSC to the end."""
    async with api_client(port, "reseller.localhost", account) as client:
        sender = (await client.get("/api/senders?channel=sms")).json()[0]["id"]
        numbers = [f"+4915100000{n:03d}" for n in range(1, 21)]
        created = await client.post(
            "/api/campaigns", json={"name": "Dash", "sender_id": sender, "text": "Hi", "numbers": numbers}
        )
        assert created.status_code == 201, created.text
        for _ in range(300):  # up to a minute
            if (await client.get(f"/api/campaigns/{created.json()['id']}")).json()["status"] == "completed":
                return
            await asyncio.sleep(0.2)
    pytest.fail("the demo campaign did not complete within a minute")


async def test_a_reseller_changes_the_period_and_the_client(demo):
    port, accounts = demo
    user = next(a for a in accounts if a["role"] == "reseller admin")
    await _sent_campaign(port, next(a for a in accounts if a["role"] == "end-user admin"))
    base = f"http://reseller.localhost:{port}"
    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1360, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await sign_in(page, base, user["email"], user["password"])
            await page.click("text=30 days")
            await page.wait_for_url(f"{base}/?period=30d")
            assert await page.locator("a[aria-current=true]").inner_text() == "30 days"
            await page.select_option("select[name=client]", label="Acme Retail")
            await page.wait_for_url("**/?period=30d&client=*")
            assert await page.locator("select[name=client] option:checked").inner_text() == "Acme Retail"
            # Three graphs drawn from their tables: by status, by channel, the last campaign.
            assert await page.locator(".chart-box canvas").count() == 3
            assert await page.locator("table[data-chart] td[data-value]").first.get_attribute("data-value") == "20"
            await page.screenshot(path=SHOTS / "dashboard.png", full_page=True)
            assert errors == []
        finally:
            await browser.close()
