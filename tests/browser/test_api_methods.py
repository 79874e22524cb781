"""A real server and headless Chromium: the API methods page leads to a key, and its curl sample sends with it."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, demo_server, sign_in

pytestmark = pytest.mark.browser
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path) as running:
        yield running


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_api_methods_page_key_and_curl_sample(demo):
    port, accounts = demo
    user = next(a for a in accounts if a["role"] == "end-user admin")
    base = f"http://reseller.localhost:{port}"
    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, user["email"], user["password"])
            await page.click("nav >> text=API methods")
            await page.wait_for_url(f"{base}/api-methods")
            await page.screenshot(path=SHOTS / "api-methods.png", full_page=True)
            sample = await page.get_by_test_id("sample-curl").inner_text()
            await page.get_by_test_id("create-key").click()
            await page.wait_for_url(f"{base}/api-keys")
            await page.fill("input[name=name]", "Browser sample")
            await page.locator("form[action='/api-keys'] button[type=submit]").click()
            key = await page.get_by_test_id("new-api-key").input_value()
        finally:
            await browser.close()
    assert f"{base}/api/send_sms" in sample  # the user's own host, port included
    command = sample.replace("YOUR_API_KEY", key).replace("YOUR_SENDER", "ACME")
    process = await asyncio.create_subprocess_exec("bash", "-c", command, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert re.fullmatch(rf'\{{"results":\["34612345678:{UUID}"\]\}}', out.decode().strip()), out
