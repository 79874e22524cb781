"""A real server and headless Chromium: the demo end user imports a CSV through the UI and watches it finish."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, demo_server, sign_in

pytestmark = pytest.mark.browser
ROWS = 60_000


@pytest.fixture
def demo(tmp_path, clean_state) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path / "var") as running:
        yield running


async def test_import_a_csv_through_upload_mapping_and_progress(demo, tmp_path):
    port, _accounts = demo
    base = f"http://reseller.localhost:{port}"
    csv_file = tmp_path / "spain-customers.csv"
    lines = ["Teléfono;Nombre;Apellido;Sexo"]
    lines += [f"+34 6{n:08d};Cliente {n};García;{'f' if n % 2 else 'm'}" for n in range(ROWS)]
    lines += ["no phone;Bad;Row;f", "+34 600000001;Duplicate;Row;m"]
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, base, "anna@acme.localhost", "acme-admin-pass")

            await page.goto(f"{base}/contacts/imports")
            await expect(page.get_by_text("No imports yet")).to_be_visible()
            await page.screenshot(path=SHOTS / "import-history-empty.png", full_page=True)
            await page.get_by_role("link", name="Import contacts").first.click()
            await page.wait_for_url(f"{base}/contacts/import")
            picture = tmp_path / "contacts.csv"
            picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
            await page.set_input_files("input[name=file]", str(picture))
            await page.get_by_role("button", name="Upload and preview").click()
            await expect(page.get_by_test_id("upload-error")).to_have_text(
                "contacts.csv is a PNG image, not a CSV, XLS or XLSX file"
            )
            await page.screenshot(path=SHOTS / "import-upload-error.png", full_page=True)
            await page.set_input_files("input[name=file]", str(csv_file))
            await expect(page.locator("[data-file-name]")).to_contain_text("spain-customers.csv")
            await page.screenshot(path=SHOTS / "import-upload.png", full_page=True)
            await page.get_by_role("button", name="Upload and preview").click()

            await page.wait_for_url(re.compile(r".*/contacts/imports/\d+/mapping$"))
            assert await page.locator("select[name='column.0']").input_value() == "phone"
            assert await page.locator("select[name='column.1']").input_value() == "first_name"
            assert await page.locator("select[name='column.2']").input_value() == "last_name"
            assert await page.locator("select[name='column.3']").input_value() == "gender"
            await page.select_option("select[name='column.3']", "first_name")
            await page.get_by_test_id("start-import").click()
            await expect(page.get_by_test_id("mapping-error")).to_contain_text(
                "Column 4 and column 2 are both mapped to First name"
            )
            await page.screenshot(path=SHOTS / "import-mapping-error.png", full_page=True)
            await page.select_option("select[name='column.3']", "gender")
            await page.fill("input[name=new_group]", "Spain customers")
            await page.screenshot(path=SHOTS / "import-mapping.png", full_page=True)
            await page.get_by_test_id("start-import").click()

            await page.wait_for_url(re.compile(r".*/contacts/imports/\d+$"))
            await page.screenshot(path=SHOTS / "import-progress.png", full_page=True)
            percent = page.get_by_test_id("import-percent")
            await expect(percent).to_have_text("100 %", timeout=60_000)
            counts = page.get_by_test_id("import-counts")
            await expect(counts).to_be_visible()
            await page.screenshot(path=SHOTS / "import-done.png", full_page=True)
            text = await counts.inner_text()
            assert re.search(r"Added\s+60,000", text) and re.search(r"Invalid\s+2", text), text
            assert await page.locator(".progress-bar").evaluate("bar => bar.style.width") == "100%"

            await page.goto(f"{base}/contacts/imports")
            row = page.locator("table.import-history tbody tr").first
            await expect(row).to_contain_text("spain-customers.csv")
            await expect(row).to_contain_text("Done")
            await page.screenshot(path=SHOTS / "import-history.png", full_page=True)
        finally:
            await browser.close()
