"""A real demo server and headless Chromium: the demo end user goes through the campaign wizard twice
(to a contact group, then to typed numbers) and finds both campaigns in the list; screenshots of each screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, demo_server, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
SHOTS.mkdir(exist_ok=True)


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path / "var") as running:
        yield running


async def setup_step(page: Page, base: str, name: str, shot: str) -> None:
    await page.goto(f"{base}/campaigns/new")
    await page.fill("input[name=name]", name)
    await page.select_option("select[name=sender_id]", index=1)
    await page.fill("#message-text", "Hello ")
    await page.get_by_role("button", name="First name").click()
    await page.type("#message-text", ", our spring sale starts today €")
    await expect(page.locator("#counter")).to_contain_text("GSM-7")
    await expect(page.locator("#phone-preview")).to_contain_text("Hello {first_name}")
    await page.screenshot(path=SHOTS / shot, full_page=True)
    await page.get_by_role("button", name="Next →").click()


async def test_wizard_to_a_group_and_to_numbers(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")

            await page.goto(f"{base}/campaigns")
            await page.screenshot(path=SHOTS / "campaigns-list-empty.png", full_page=True)
            await page.goto(f"{base}/campaigns/new")
            if await page.locator("[data-testid=no-senders]").count():
                await page.screenshot(path=SHOTS / "wizard-no-sender.png", full_page=True)
                pytest.skip("the demo company has no enabled sender ID")

            # Empty text: the error names the field and the page keeps the name typed.
            await page.fill("input[name=name]", "Kept name")
            await page.get_by_role("button", name="Next →").click()
            await expect(page.get_by_test_id("wizard-error")).to_be_visible()
            await expect(page.locator("input[name=name]")).to_have_value("Kept name")
            await page.screenshot(path=SHOTS / "wizard-setup-error.png", full_page=True)

            # The emoji picker inserts at the cursor, and the counter turns to Unicode (70 a part).
            await page.fill("#message-text", "Party ")
            await page.get_by_test_id("emoji-picker").locator("summary").click()
            await page.get_by_role("button", name="🎉").click()
            await expect(page.locator("#message-text")).to_have_value("Party 🎉")
            await expect(page.locator("#counter")).to_contain_text("UCS-2")
            await page.get_by_test_id("emoji-picker").locator("summary").click()
            await page.screenshot(path=SHOTS / "wizard-emoji.png", full_page=True)

            # 1. To a contact group, scheduled for tomorrow.
            await setup_step(page, base, "Browser group campaign", "wizard-setup.png")
            await expect(page.get_by_test_id("groups-chart")).to_be_hidden()
            await page.locator("input[name=group_ids]").nth(1).check()
            await expect(page.get_by_test_id("groups-chart")).to_be_visible()  # the chosen groups' sizes
            await page.screenshot(path=SHOTS / "wizard-recipients-groups.png", full_page=True)
            await page.get_by_role("button", name="Next →").click()
            await page.check("input[name=send_mode][value=later]")
            # A far zone: 10:00 in Auckland is the UTC instant of the day before (or the same day in winter), so
            # the day is two UTC days ahead: "tomorrow" there may already be in the past in UTC.
            day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
            await page.fill("input[name=send_date]", day)
            await page.fill("input[name=send_time]", "10:00")
            await page.select_option("select[name=timezone]", "Pacific/Auckland")
            await page.get_by_role("button", name="Update preview").click()
            await expect(page.get_by_test_id("cost-preview")).to_be_visible()
            local = datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=ZoneInfo("Pacific/Auckland"))
            instant = local.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
            await expect(page.get_by_test_id("utc")).to_have_text(f"Starts at {instant} UTC")
            await expect(page.locator("select[name=timezone]")).to_have_value("Pacific/Auckland")
            await page.screenshot(path=SHOTS / "wizard-complete.png", full_page=True)
            await page.get_by_test_id("confirm").click()
            await page.wait_for_url(f"{base}/campaigns?**")
            await expect(page.get_by_text("Campaign scheduled.")).to_be_visible()

            # 2. To typed numbers, with a check first.
            await setup_step(page, base, "Browser numbers campaign", "wizard-setup-2.png")
            await page.check("input[name=mode][value=numbers]")
            await page.fill("textarea[name=numbers_text]", "+34612345678\n+34612345678, 12")
            await page.get_by_role("button", name="Check").first.click()
            await expect(page.get_by_test_id("numbers-check")).to_contain_text("1 valid")
            await expect(page.get_by_test_id("numbers-check")).to_contain_text("1 invalid")
            await page.screenshot(path=SHOTS / "wizard-recipients-numbers.png", full_page=True)
            await page.fill("textarea[name=numbers_text]", "+34612345678\n+34612345679")
            await page.get_by_role("button", name="Next →").click()
            await page.check("input[name=send_mode][value=later]")
            await page.fill("input[name=send_date]", tomorrow)
            await page.fill("input[name=send_time]", "11:00")
            await page.get_by_role("button", name="Update preview").click()
            await page.get_by_test_id("confirm").click()
            await page.wait_for_url(f"{base}/campaigns?**")
            await expect(page.get_by_role("link", name="Browser group campaign")).to_be_visible()
            await expect(page.get_by_role("link", name="Browser numbers campaign")).to_be_visible()
            await page.screenshot(path=SHOTS / "campaigns-list.png", full_page=True)

            await page.get_by_role("link", name="Browser numbers campaign").click()
            await expect(page.get_by_test_id("counters")).to_be_visible()
            await page.screenshot(path=SHOTS / "campaign-details.png", full_page=True)
            await page.goto(f"{base}/statistics/edr")
            await page.screenshot(path=SHOTS / "edr-table.png", full_page=True)
        finally:
            await browser.close()
