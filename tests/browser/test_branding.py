"""A real server and headless Chromium: both demo portals sign in and look like two different brands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, demo_server

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path) as running:
        yield running


async def test_both_demo_portals_sign_in_with_their_own_branding(demo):
    port, accounts = demo
    owner = next(a for a in accounts if a["role"] == "system owner admin")
    end_user = next(a for a in accounts if a["role"] == "end-user admin")
    SHOTS.mkdir(exist_ok=True)
    seen = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for key, account, host in [("demo", owner, "demo.localhost"), ("skyline", end_user, "reseller.localhost")]:
                page = await browser.new_page(viewport={"width": 1280, "height": 800})
                await page.goto(f"http://{host}:{port}/login")
                await page.screenshot(path=SHOTS / f"{key}-sign-in.png")
                button = page.locator('form[action="/login"] button[type=submit]')
                seen[key] = {
                    "brand": await page.locator(".auth-brand-name").inner_text(),
                    "button": await button.evaluate("b => getComputedStyle(b).backgroundColor"),
                    "font": await page.evaluate("getComputedStyle(document.body).fontFamily"),
                    "logo": await page.locator(".auth-logo").evaluate("img => img.naturalWidth"),
                }
                await page.fill("input[name=email]", account["email"])
                await page.fill("input[name=password]", account["password"])
                await button.click()
                await page.wait_for_url(f"http://{host}:{port}/")
                seen[key]["header"] = await page.locator(".brand-name").inner_text()
                seen[key]["balance"] = await page.get_by_test_id("balance").inner_text()
                await page.screenshot(path=SHOTS / f"{key}-dashboard.png", full_page=True)
                if key == "demo":
                    await page.click("text=Admin Panel")
                    await page.wait_for_url(f"http://{host}:{port}/admin")
                    assert await page.locator(".stat-label").first.inner_text() == "Resellers"
                    await page.screenshot(path=SHOTS / "demo-admin.png", full_page=True)
                await page.close()
        finally:
            await browser.close()
    assert seen["demo"]["brand"] == seen["demo"]["header"] == "Campaign Portal Demo"
    assert seen["skyline"]["brand"] == seen["skyline"]["header"] == "Skyline Messaging"
    assert seen["demo"]["button"] == "rgb(37, 99, 235)" and seen["skyline"]["button"] == "rgb(194, 65, 12)"
    assert "Georgia" in seen["skyline"]["font"] and "Georgia" not in seen["demo"]["font"]
    assert seen["demo"]["logo"] > 0 and seen["skyline"]["logo"] > 0
    assert seen["skyline"]["balance"] == "250.00 EUR"
