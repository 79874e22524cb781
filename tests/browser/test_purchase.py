"""A real demo server and headless Chromium: the demo end user buys one of its provider's packs on the Purchase
page, confirms the order and sees the pack under Your packs with the balance lowered by its price."""

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


async def test_buy_a_pack_on_the_purchase_page(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")
            await expect(page.get_by_test_id("balance")).to_have_text("250.00 EUR")

            await page.get_by_test_id("dashboard-purchase").click()
            await page.wait_for_url(f"{base}/purchase")
            await expect(page.get_by_text("You have no packs yet.")).to_be_visible()
            catalogue = page.get_by_test_id("catalogue")
            await expect(catalogue).to_contain_text("Spain SMS 1000")
            await expect(catalogue).to_contain_text("0.038 EUR")  # 38 EUR for 1,000 messages
            await page.fill("input[name=q]", "spain sms")
            await page.get_by_role("button", name="Apply").click()
            await expect(catalogue.locator("article")).to_have_count(1)
            await page.screenshot(path=SHOTS / "purchase-catalogue.png", full_page=True)

            await catalogue.get_by_role("link", name="Buy now").click()
            order = page.get_by_test_id("order")
            await expect(order).to_contain_text("Spain SMS 1000")
            await expect(page.get_by_test_id("balance-after")).to_have_text("212.00 EUR")
            await page.screenshot(path=SHOTS / "purchase-confirm.png", full_page=True)
            await page.get_by_test_id("confirm-buy").click()

            await page.wait_for_url(f"{base}/purchase?bought=*")
            await expect(page.get_by_test_id("bought")).to_contain_text("Spain SMS 1000")
            held = page.get_by_test_id("your-packs")
            await expect(held).to_contain_text("Spain SMS 1000")
            await expect(held).to_contain_text("1,000 of 1,000")
            await expect(page.get_by_test_id("balance")).to_have_text("212.00 EUR")
            await page.screenshot(path=SHOTS / "purchase-bought.png", full_page=True)

            # A double submit of one confirmation (two requests with its token) buys once.
            await page.goto(f"{base}/purchase")
            await page.get_by_test_id("catalogue").get_by_role("link", name="Buy now").first.click()
            await expect(page.get_by_test_id("balance-after")).not_to_have_text("")
            await page.evaluate(
                "() => { const f = document.querySelector('form[action^=\"/purchase/packs/\"]');"
                " f.requestSubmit(); f.requestSubmit(); }"
            )
            await page.wait_for_url(f"{base}/purchase?bought=*")
            await expect(held.locator("article")).to_have_count(2)
            await expect(page.get_by_test_id("bought")).to_have_count(1)

            await page.goto(f"{base}/finance")
            await expect(page.locator("table")).to_contain_text("Pack purchase")
            await expect(page.locator("table")).to_contain_text("-38.00 EUR")
            await expect(page.locator("table tbody tr", has_text="Pack purchase")).to_have_count(2)
        finally:
            await browser.close()
