"""Headless Chromium on a real demo server: the demo end user builds a Viber → WhatsApp → SMS cascade in the
wizard with its add and remove buttons, the WhatsApp step with its approved template and parameters; the Viber
stand-in leaves one number undelivered and the WhatsApp stand-in fails it, so it then gets the SMS, and the
campaign's details show the three steps; the preview prices the later steps for the worst case and the cost
details name each line's channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, demo_server, sign_in

pytestmark = pytest.mark.browser
SHOTS.mkdir(exist_ok=True)


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(
        tmp_path / "var",
        PORTAL_STANDIN_VIBER_OUTCOMES="34607000002=undelivered",
        PORTAL_STANDIN_WHATSAPP_OUTCOMES="34607000002=failed",
    ) as running:
        yield running


async def test_a_viber_whatsapp_sms_cascade_is_built_in_the_wizard_and_every_step_shows(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")

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
            # The demo's channels besides Viber: WhatsApp, then SMS (only ever last).
            await cascade.get_by_test_id("cascade-add").click()
            step = cascade.get_by_test_id("cascade-step")
            await expect(step).to_have_count(1)
            await expect(step.locator("select[name=cascade_to]")).to_be_focused()  # the page comes back where it was
            options = await step.locator("select[name=cascade_to] option").all_text_contents()
            assert sorted(o.split(" · ")[0] for o in options) == ["SMS", "WhatsApp"], options
            await expect(step.locator("select[name=cascade_to] option:checked")).to_contain_text("WhatsApp")
            # Removed and added again, with the buttons alone; then SMS after it, and no more is offered.
            await step.get_by_test_id("cascade-remove").click()
            await expect(cascade.get_by_test_id("cascade-step")).to_have_count(0)
            await cascade.get_by_test_id("cascade-add").click()
            await expect(step).to_have_count(1)
            await cascade.get_by_test_id("cascade-add").click()
            await expect(step).to_have_count(2)
            await expect(cascade.get_by_test_id("cascade-add")).to_have_count(0)
            await expect(step.nth(1).locator("select[name=cascade_to] option:checked")).to_contain_text("SMS")
            await expect(step.nth(0).get_by_role("button", name="Move step 2 down")).to_be_disabled()  # SMS last
            # The WhatsApp step's template: choosing it brings its parameters.
            template = step.nth(0).get_by_test_id("cascade-template")
            await template.locator("select[name=step_vendor_template_id]").select_option(label="order_update (en_US)")
            await expect(template.locator("input[name=step_param]")).to_have_count(2)
            await template.locator("input[name=step_param]").nth(0).fill("{first_name}")
            await template.locator("input[name=step_param]").nth(1).fill("A-1042")
            await cascade.locator("input[name=fallback_minutes]").fill("1")
            await step.nth(0).locator("input[name=cascade_minutes]").fill("1")
            await page.get_by_role("button", name="Update preview").click()
            await expect(page.get_by_test_id("cascade-note")).to_contain_text("after 1 minute gets")
            costs = page.get_by_test_id(
                "cascade-costs"
            )  # the later steps priced for everyone the one before could reach
            await expect(costs.locator("tbody tr")).to_have_count(2)
            await expect(costs.locator("tbody tr").nth(0)).to_contain_text("WHATSAPP")
            await expect(costs.locator("tbody tr").nth(1)).to_contain_text("SMS")
            await expect(page.get_by_test_id("worst-case-total")).not_to_be_empty()
            await page.get_by_test_id("cascade").screenshot(path=SHOTS / "cascade-whatsapp-step.png")
            await page.get_by_test_id("confirm").click()
            await page.wait_for_url(f"{base}/campaigns?**")

            row = page.locator("tr", has_text="Cascade spring")
            await expect(row).to_contain_text("Completed", timeout=60_000)
            await row.get_by_role("link", name="Cascade spring").click()
            steps = page.get_by_test_id("cascade-steps")
            await expect(steps.locator("tbody tr")).to_have_count(3)
            first, second, third = (steps.locator("tbody tr").nth(n) for n in range(3))
            await expect(first).to_contain_text("VIBER")
            await expect(first).to_contain_text("1 minute")  # the TTL in the unit it was typed in, not 60 seconds
            await expect(second).to_contain_text("WHATSAPP")
            await expect(third).to_contain_text("SMS")
            cells = await third.locator("td").all_text_contents()
            assert cells[5:8] == ["1", "1", "1"], cells  # one message handed on to SMS, sent and delivered
            lines = page.get_by_test_id("cost-details").locator("tbody tr")
            assert await lines.locator("td:first-child").all_text_contents() == ["VIBER", "SMS"]
        finally:
            await browser.close()
