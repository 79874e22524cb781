"""Sending for real from the browser: the demo end user sends two campaigns through the wizard (to a contact group,
then to typed numbers), watches them complete without reloading, and finds delivered and undelivered message
records with their costs; the balance in the header fell by exactly the sum charged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, demo_server, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
SHOTS.mkdir(exist_ok=True)


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    # The demo's German contact is left undelivered by the stand-in SMSC that `portal run` starts.
    with demo_server(tmp_path / "var", PORTAL_STANDIN_SMS_OUTCOMES="4915100000003=undelivered") as running:
        yield running


async def send_now(page: Page, base: str, name: str, recipients) -> None:
    await page.goto(f"{base}/campaigns/new")
    await page.fill("input[name=name]", name)
    await page.select_option("select[name=sender_id]", index=1)
    await page.fill("#message-text", "Hello, our spring sale starts today")
    await page.get_by_role("button", name="Next →").click()
    await recipients(page)
    await page.get_by_role("button", name="Next →").click()
    await expect(page.get_by_test_id("confirm")).to_have_text("Send now")
    await page.get_by_test_id("confirm").click()


async def test_two_campaigns_are_sent_delivered_and_charged(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")
            await expect(page.get_by_test_id("balance")).to_have_text("250.00 EUR")

            async def the_group(page: Page) -> None:
                await page.locator("input[name=group_ids]").nth(1).check()  # "Newsletter", after "All contacts"

            async def typed_numbers(page: Page) -> None:
                await page.check("input[name=mode][value=numbers]")
                await page.fill("textarea[name=numbers_text]", "+34607000009\n+34615000010\n+34607000009")

            await send_now(page, base, "Group send", the_group)
            await send_now(page, base, "Numbers send", typed_numbers)
            await page.goto(f"{base}/campaigns")
            rows = page.locator("tbody tr")
            # Live progress: the table refreshes itself until both campaigns are completed.
            await expect(rows.filter(has_text="Group send")).to_contain_text("Completed", timeout=30_000)
            await expect(rows.filter(has_text="Numbers send")).to_contain_text("Completed", timeout=30_000)
            await expect(rows.filter(has_text="Group send")).to_contain_text("2 delivered · 1 undelivered")
            await expect(rows.filter(has_text="Numbers send")).to_contain_text("2 delivered · 0 undelivered")
            await page.screenshot(path=SHOTS / "sending-list.png", full_page=True)

            await page.goto(f"{base}/statistics/edr")
            records = page.locator("tbody tr")
            await expect(records).to_have_count(5)
            undelivered = records.filter(has_text="4915100000003")
            await expect(undelivered).to_contain_text("Undelivered")
            await expect(undelivered).to_contain_text("0.075 EUR")  # By Submitted: charged all the same
            await expect(records.filter(has_text="34607000009")).to_contain_text("Delivered")
            await expect(records.filter(has_text="34607000009")).to_contain_text("0.034 EUR")
            await expect(records.filter(has_text="34615000010")).to_contain_text("0.045 EUR")
            await page.screenshot(path=SHOTS / "sending-edr.png", full_page=True)
            # 0.075 + 0.045 + 0.034 for the group, 0.034 + 0.045 for the numbers (the duplicate was dropped).
            await expect(page.get_by_test_id("balance")).to_have_text("249.767 EUR")
        finally:
            await browser.close()
