"""Headless Chromium on a real demo server: the demo end user builds a Viber → SMS cascade in the wizard with its
add and remove buttons (the demo has no third channel that takes free text; three steps are tested in
tests/core/campaigns); the Viber stand-in leaves one number undelivered, which then gets the SMS, and the campaign's
details show both steps; the preview prices the SMS step for the worst case and the cost details name each line's
channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, demo_server

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path / "var", PORTAL_STANDIN_VIBER_OUTCOMES="34607000002=undelivered") as running:
        yield running


async def test_a_viber_then_sms_cascade_is_built_in_the_wizard_and_both_steps_show(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/login")
            await page.fill("input[name=email]", "anna@acme.localhost")
            await page.fill("input[name=password]", "acme-admin-pass")
            await page.click('form[action="/login"] button[type=submit]')
            await page.wait_for_url(f"{base}/")

            await page.goto(f"{base}/campaigns/new")
            await page.fill("input[name=name]", "Cascade spring")
            await page.fill("#message-text", "Spring sale -20% on everything")
            await page.select_option("select[name=channel]", "viber")
            await expect(page.locator("[data-testid=rich-fields]")).to_be_visible()
            await page.select_option("select[name=sender_id]", label="ACME Shop")
            await page.get_by_role("button", name="Next →").click()
            await page.check("input[name=mode][value=numbers]")
            await page.fill("textarea[name=numbers_text]", "+34607000001\n+34607000002")
            await page.get_by_role("button", name="Next →").click()

            cascade = page.get_by_test_id("cascade")
            await expect(cascade).to_be_visible()
            await expect(cascade.get_by_test_id("cascade-step")).to_have_count(0)
            # The demo's free-text channels besides Viber: SMS only, so one step is added and no more is offered.
            await cascade.get_by_test_id("cascade-add").click()
            step = cascade.get_by_test_id("cascade-step")
            await expect(step).to_have_count(1)
            await expect(step.locator("select[name=cascade_to]")).to_be_focused()  # the page comes back where it was
            options = await step.locator("select[name=cascade_to] option").all_text_contents()
            assert [o.split(" · ")[0] for o in options] == ["SMS"], options
            await expect(cascade.get_by_test_id("cascade-add")).to_have_count(0)
            # Removed and added again, with the buttons alone.
            await step.get_by_test_id("cascade-remove").click()
            await expect(cascade.get_by_test_id("cascade-step")).to_have_count(0)
            await cascade.get_by_test_id("cascade-add").click()
            await expect(step).to_have_count(1)
            await expect(step.get_by_role("button", name="Move step 2 up")).to_be_disabled()
            await expect(step.locator("input[name=cascade_minutes]")).to_have_count(1)  # hidden: the last has none
            await cascade.locator("input[name=fallback_minutes]").fill("1")
            await page.get_by_role("button", name="Update preview").click()
            await expect(page.get_by_test_id("cascade-note")).to_contain_text("after 1 minute gets")
            costs = page.get_by_test_id("cascade-costs")  # the SMS step priced for everyone Viber could reach
            await expect(costs.locator("tbody tr")).to_have_count(1)
            await expect(costs.locator("tbody tr")).to_contain_text("1 minute")
            await expect(page.get_by_test_id("worst-case-total")).not_to_be_empty()
            await page.get_by_test_id("confirm").click()
            await page.wait_for_url(f"{base}/campaigns?**")

            row = page.locator("tr", has_text="Cascade spring")
            await expect(row).to_contain_text("Completed", timeout=60_000)
            await row.get_by_role("link", name="Cascade spring").click()
            steps = page.get_by_test_id("cascade-steps")
            await expect(steps.locator("tbody tr")).to_have_count(2)
            first, second = steps.locator("tbody tr").nth(0), steps.locator("tbody tr").nth(1)
            await expect(first).to_contain_text("VIBER")
            await expect(first).to_contain_text("1 minute")  # the TTL in the unit it was typed in, not 60 seconds
            await expect(second).to_contain_text("SMS")
            cells = await second.locator("td").all_text_contents()
            assert cells[5:8] == ["1", "1", "1"], cells  # one message handed on to SMS, sent and delivered
            lines = page.get_by_test_id("cost-details").locator("tbody tr")
            assert await lines.locator("td:first-child").all_text_contents() == ["VIBER", "SMS"]
        finally:
            await browser.close()
