"""A real demo server and headless Chromium: the demo end user makes an SMS template with a variable, sees its
tile with the part counter, opens the wizard from the tile prefilled, and looks at the page in Spanish; a Viber
template with an image and a button goes the same way to the wizard on Viber."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


async def test_template_tile_to_a_prefilled_wizard(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")

            await page.get_by_role("link", name="Templates").first.click()
            await page.wait_for_url(f"{base}/templates")
            await expect(page.locator(".empty")).to_contain_text("No templates yet")
            await page.screenshot(path=SHOTS / "templates-empty.png", full_page=True)

            await page.get_by_role("link", name="+ New template").click()
            if await page.locator("[data-testid=no-senders]").count():
                pytest.skip("the demo company has no enabled sender ID")
            # Saved without a name: the error stands under the name and the text typed stays.
            await page.fill("#message-text", "Hello ")
            await page.get_by_role("button", name="Create").click()
            await expect(page.locator(".field-error")).to_contain_text("Give the template a name")
            await expect(page.locator("#message-text")).to_have_value("Hello ")
            await page.screenshot(path=SHOTS / "templates-form-error.png", full_page=True)

            await page.fill("input[name=name]", "Spring greeting")
            await page.select_option("select[name=sender_id]", index=1)
            await page.locator("#message-text").press("Control+End")  # the page came back: the caret is at 0
            await page.get_by_role("button", name="First name").click()
            await page.type("#message-text", ", our spring sale starts today")
            await expect(page.locator("#counter")).to_contain_text("1 part")
            await expect(page.locator("#phone-preview")).to_contain_text("Hello {first_name}, our spring")
            await page.screenshot(path=SHOTS / "templates-form.png", full_page=True)
            await page.get_by_role("button", name="Create").click()
            await page.wait_for_url(f"{base}/templates?**")
            tile = page.locator(".tile").first
            await expect(tile).to_contain_text("Spring greeting")
            await expect(tile).to_contain_text("1 part")
            await page.screenshot(path=SHOTS / "templates-tiles.png", full_page=True)

            await tile.get_by_role("link", name="Create campaign").click()
            await page.wait_for_url(f"{base}/campaigns/new?template=**")
            text = "Hello {first_name}, our spring sale starts today"
            await expect(page.locator("#message-text")).to_have_value(text)
            await expect(page.locator("select[name=use_template_id]")).to_have_value(
                await page.locator("input[name=template_id]").input_value()
            )
            await page.screenshot(path=SHOTS / "templates-wizard.png", full_page=True)
            await page.fill("input[name=name]", "Spring from a template")
            await page.get_by_role("button", name="Next →").click()
            await page.locator("input[name=group_ids]").nth(1).check()
            # The recipients step's script has seen the tick (it draws the chosen group) before the step is left.
            await expect(page.get_by_test_id("groups-chart")).to_be_visible()
            await page.get_by_role("button", name="Next →").click()
            await expect(page.locator("input[name=step]")).to_have_value("3")
            await page.check("input[name=send_mode][value=later]")
            await page.fill("input[name=send_date]", (datetime.now(UTC) + timedelta(days=1)).date().isoformat())
            await page.fill("input[name=send_time]", "10:00")
            await page.get_by_role("button", name="Update preview").click()
            await page.get_by_test_id("confirm").click()
            await page.wait_for_url(f"{base}/campaigns?**")

            # Deleting the template now warns: the scheduled campaign would fail when it is due.
            await page.goto(f"{base}/templates")
            page.once("dialog", lambda dialog: dialog.accept())
            await page.locator(".tile").first.get_by_role("button", name="Delete").click()
            await expect(page.get_by_test_id("delete-warning")).to_contain_text("Spring from a template")
            await page.screenshot(path=SHOTS / "templates-delete-warning.png", full_page=True)
            await page.get_by_role("link", name="Keep it").click()
            await expect(page.locator(".tile")).to_have_count(1)

            await page.goto(f"{base}/templates")
            spanish = page.locator("button[name=language][value=es]")
            if await spanish.count():
                await spanish.first.evaluate("button => button.click()")  # the picker sits in the closed user menu
                await page.wait_for_url(f"{base}/templates")
                await expect(page.locator("html")).to_have_attribute("lang", "es")
                await page.screenshot(path=SHOTS / "templates-tiles-es.png", full_page=True)
        finally:
            await browser.close()


async def test_a_viber_template_tile_to_a_prefilled_viber_wizard(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    image, shop = "https://cdn.example.com/spring.jpg", "https://shop.example.com/sale"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")

            await page.goto(f"{base}/templates/new")
            await page.fill("input[name=name]", "Viber spring")
            await page.fill("#message-text", "Spring sale -20% 🌷")
            await expect(page.locator("[data-testid=rich-fields]")).to_have_count(0)
            await expect(page.locator("[data-testid=switch-channel]")).to_be_hidden()
            await page.select_option("select[name=channel]", "viber")  # the form follows at once, keeping the text
            await expect(page.locator("[data-testid=rich-fields]")).to_be_visible()
            await expect(page.locator("input[name=name]")).to_have_value("Viber spring")
            await expect(page.locator("#message-text")).to_have_value("Spring sale -20% 🌷")
            senders = await page.locator("select[name=sender_id] option").all_text_contents()
            assert senders[1:] == ["ACME Shop"]  # the Viber sender ID only
            await expect(page.locator("#traffic-type")).to_have_text("Transaction")
            await page.select_option("select[name=sender_id]", label="ACME Shop")
            await page.fill("#image-url", image)
            await page.fill("#button-caption", "Shop now")
            await expect(page.locator("#traffic-type")).to_have_text("Promotion")
            await expect(page.locator("#phone-button")).to_have_text("Shop now")
            await expect(page.locator("#phone-image")).to_be_visible()
            # Without the button's address it is refused, naming that field, and what was typed stays.
            await page.get_by_role("button", name="Create").click()
            await expect(page.locator("#button-url")).to_have_attribute("aria-invalid", "true")
            await expect(page.locator(".field-error")).to_contain_text("Give the address the button leads to")
            await expect(page.locator("#image-url")).to_have_value(image)
            await page.screenshot(path=SHOTS / "templates-viber-form-error.png", full_page=True)
            await page.fill("#button-url", shop)
            await page.screenshot(path=SHOTS / "templates-viber-form.png", full_page=True)
            await page.get_by_role("button", name="Create").click()
            await page.wait_for_url(f"{base}/templates?**")

            await page.select_option("select[name=channel]", "viber")  # the filter
            await page.wait_for_url(f"{base}/templates?**channel=viber**")
            tile = page.locator(".tile", has_text="Viber spring")
            await expect(page.locator(".tile")).to_have_count(1)
            await expect(tile.locator(".tile-button")).to_have_text("Shop now")
            await expect(tile).to_contain_text("Promotion")
            await page.screenshot(path=SHOTS / "templates-viber-tiles.png", full_page=True)

            await tile.get_by_role("link", name="Create campaign").click()
            await page.wait_for_url(f"{base}/campaigns/new?template=**")
            await expect(page.locator("select[name=channel]")).to_have_value("viber")
            await expect(page.locator("#message-text")).to_have_value("Spring sale -20% 🌷")
            await expect(page.locator("#image-url")).to_have_value(image)
            await expect(page.locator("#button-caption")).to_have_value("Shop now")
            await expect(page.locator("#button-url")).to_have_value(shop)
            await expect(page.locator("#traffic-type")).to_have_text("Promotion")
            await expect(page.locator("select[name=sender_id] option:checked")).to_have_text("ACME Shop")
            await page.screenshot(path=SHOTS / "templates-viber-wizard.png", full_page=True)
        finally:
            await browser.close()
