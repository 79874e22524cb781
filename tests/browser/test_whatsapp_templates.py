"""Headless Chromium on a real demo server: the demo end user opens the WhatsApp templates tab, adds a button row,
sees a bad link refused beside its field, submits the template and watches its tile turn approved."""

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


async def test_a_whatsapp_template_from_the_form_to_its_approved_tile(demo):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")

            await page.goto(f"{base}/templates")
            await page.get_by_role("link", name="WhatsApp templates").click()
            await page.wait_for_url(f"{base}/templates/whatsapp")
            await expect(page.locator(".tile").first).to_contain_text("order_update")  # the demo's approved one
            await page.screenshot(path=SHOTS / "wa-templates-list.png", full_page=True)

            await page.get_by_role("link", name="+ New WhatsApp template").first.click()
            await page.fill("input[name=name]", "spring_sale")
            await page.fill("textarea[name=body]", "Hi {{1}}, our spring sale starts today")
            await page.select_option("select[name='header.kind']", "image")
            await page.get_by_test_id("refresh-header").click()
            await page.fill("input[name='header.url']", "https://shop.example/spring.jpg")
            await page.fill("input[name=footer]", "Reply STOP to opt out")
            await page.get_by_test_id("add-button").click()
            await page.select_option("select[name='buttons.0.kind']", "url")
            await page.fill("input[name='buttons.0.text']", "Shop now")
            await page.fill("input[name='buttons.0.url']", "http://shop.example")
            await page.get_by_test_id("submit").click()
            error = page.locator("[data-testid=button-0] .field-error")
            await expect(error).to_contain_text("https://")
            await expect(page.locator("input[name='header.url']")).to_have_value("https://shop.example/spring.jpg")
            await expect(page.get_by_test_id("preview")).to_contain_text("our spring sale")
            await page.screenshot(path=SHOTS / "wa-templates-form-error.png", full_page=True)

            await page.fill("input[name='buttons.0.url']", "https://shop.example/spring")
            await page.get_by_test_id("submit").click()
            await page.wait_for_url(f"{base}/templates/whatsapp?done=created*")
            tile = page.locator(".tile", has_text="spring_sale")
            await expect(tile).to_contain_text("Shop now")
            # The stand-in approves by webhook; a pending tile's list reloads itself until the verdict is there.
            await expect(tile).to_contain_text("Approved", timeout=15_000)
            await page.screenshot(path=SHOTS / "wa-templates-approved.png", full_page=True)
        finally:
            await browser.close()
