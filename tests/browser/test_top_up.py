"""A real demo server and headless Chromium: the demo end user clicks Top Up, pays on the Stripe stand-in's page
and comes back to the credited balance; a canceled checkout leaves the balance alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, demo_server, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
SHOTS.mkdir(exist_ok=True)


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path / "var") as running:
        yield running


async def test_top_up_through_the_stand_in_to_the_credited_balance(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")
            await expect(page.get_by_test_id("balance")).to_have_text("250.00 EUR")

            await page.get_by_test_id("top-up").click()
            await page.wait_for_url(f"{base}/top-up/")
            await page.fill("input[name=amount]", "12.345")
            await page.get_by_role("button", name="Continue to payment").click()
            await expect(page.locator(".field-error")).to_contain_text("at most 2 decimal places")
            await page.screenshot(path=SHOTS / "top-up-form.png", full_page=True)

            # Canceled on the payment page: back on the portal, nothing charged, the balance unchanged.
            await page.fill("input[name=amount]", "5")
            await page.get_by_role("button", name="Continue to payment").click()
            await expect(page.locator("#amount")).to_have_text("5.00 EUR")
            await page.get_by_role("button", name="Cancel").click()
            await expect(page.get_by_test_id("top-up-result")).to_have_attribute("data-status", "canceled")
            await expect(page.get_by_test_id("balance")).to_have_text("250.00 EUR")

            await page.goto(f"{base}/top-up/")
            await page.fill("input[name=amount]", "40.50")
            await page.get_by_role("button", name="Continue to payment").click()
            await expect(page.locator("#amount")).to_have_text("40.50 EUR")
            await page.screenshot(path=SHOTS / "top-up-checkout.png", full_page=True)
            await page.get_by_role("button", name="Pay").click()
            await expect(page.get_by_test_id("top-up-result")).to_contain_text(
                "Payment of 40.50 EUR received. Your balance is now 290.50 EUR."
            )
            await expect(page.get_by_test_id("balance")).to_have_text("290.50 EUR")
            await page.screenshot(path=SHOTS / "top-up-paid.png", full_page=True)

            await page.goto(f"{base}/finance")
            await expect(page.locator("table")).to_contain_text("Balance top up")
            await expect(page.locator("table")).to_contain_text("40.50")
        finally:
            await browser.close()
