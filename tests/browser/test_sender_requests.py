"""A real server and headless Chromium: a sender-ID request from the end user's page to the owner's inbox and back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, demo_server, sign_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path / "var") as running:
        yield running


async def test_request_travels_from_the_end_user_to_the_owner_and_back(demo, tmp_path):
    port, _accounts = demo
    reseller_site, owner_site = f"http://reseller.localhost:{port}", f"http://demo.localhost:{port}"
    licence, renamed = tmp_path / "licence.pdf", tmp_path / "photo.pdf"
    licence.write_bytes(PDF)
    renamed.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, reseller_site, "anna@acme.localhost", "acme-admin-pass")
            await page.get_by_role("link", name="Sender IDs").click()
            await page.wait_for_url(f"{reseller_site}/senders")
            await page.screenshot(path=SHOTS / "senders.png", full_page=True)
            await page.get_by_role("link", name="Request a sender ID").click()
            await page.fill("input[name=name]", "AcmeShop")
            await page.fill("textarea[name=comment]", "Our online shop")
            await page.set_input_files("input[name=documents]", str(renamed))
            await page.get_by_role("button", name="Send request").click()
            await expect(page.locator(".alert-error")).to_contain_text("photo.pdf: not a PDF document")
            assert await page.locator("input[name=name]").input_value() == "AcmeShop"
            await page.screenshot(path=SHOTS / "sender-request-error.png", full_page=True)
            await page.set_input_files("input[name=documents]", str(licence))
            await page.get_by_role("button", name="Send request").click()
            await page.wait_for_url(f"{reseller_site}/senders?done=requested")
            await expect(page.get_by_test_id("senders")).to_contain_text("Waiting")
            await expect(page.get_by_test_id("sender-requests")).to_contain_text("New")
            await page.screenshot(path=SHOTS / "senders-waiting.png", full_page=True)

            await sign_in(page, reseller_site, "admin@skyline.localhost", "skyline-demo-pass")
            await page.goto(f"{reseller_site}/admin/requests")
            await page.screenshot(path=SHOTS / "request-inbox.png", full_page=True)
            await page.get_by_role("link", name="Details").first.click()
            await page.wait_for_url(re.compile(r".*/admin/requests/\d+$"))
            await expect(page.get_by_role("link", name="licence.pdf")).to_be_visible()
            await page.screenshot(path=SHOTS / "request-detail-reseller.png", full_page=True)
            await page.get_by_role("button", name="Pass up").click()
            await expect(page.get_by_test_id("request-status")).to_have_text("In progress")
            request_path = re.sub(r"\?.*$", "", page.url.split(str(port))[1])

            await sign_in(page, owner_site, "owner@demo.localhost", "owner-demo-pass")
            await page.goto(f"{owner_site}/admin/requests?mine=true")
            await expect(page.get_by_test_id("requests")).to_contain_text("AcmeShop")
            await page.goto(f"{owner_site}{request_path}")
            await page.screenshot(path=SHOTS / "request-detail-owner.png", full_page=True)
            await page.get_by_role("button", name="Confirm").click()
            await expect(page.get_by_test_id("request-status")).to_have_text("Confirmed")

            await sign_in(page, reseller_site, "anna@acme.localhost", "acme-admin-pass")
            await page.goto(f"{reseller_site}/senders")
            row = page.get_by_test_id("senders").locator("tr", has_text="AcmeShop")
            await expect(row).to_contain_text("Enabled")
            await page.screenshot(path=SHOTS / "senders-enabled.png", full_page=True)
            await page.goto(f"{reseller_site}/account")
            await page.select_option("select[name=language]", "es")
            await page.click("form[action='/account'] button[type=submit]")
            await page.wait_for_url(f"{reseller_site}/account?saved=1")
            await page.goto(f"{reseller_site}/senders")
            assert await page.locator("html").get_attribute("lang") == "es"
            await page.screenshot(path=SHOTS / "senders-spanish.png", full_page=True)
        finally:
            await browser.close()
