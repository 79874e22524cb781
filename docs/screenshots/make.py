"""Screenshots of the main screens for docs/screens.md: a fresh demo, headless Chromium, each role signed in.

    make screenshots            # or: .venv/bin/python docs/screenshots/make.py

It seeds the demo in a temporary directory and starts it on free ports (as the browser tests do), sends one
campaign so that the dashboard and statistics have figures, then signs in as each demo account and saves one PNG
per screen in this folder and the page that shows them, docs/screens.md. Run it again when a screen changes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, async_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, api_client, demo_server, sign_in  # noqa: E402

VIEWPORT = {"width": 1360, "height": 860}


@dataclass(frozen=True)
class Screen:
    file: str
    title: str
    path: str
    what: str


# The demo account (its `role` in `portal demo --json`), its portal's host, and what it sees.
SCREENS: dict[str, tuple[str, list[Screen]]] = {
    "end-user admin": (
        "reseller.localhost",
        [
            Screen("dashboard", "Dashboard", "/", "Messages and cost by status and channel, the last campaign."),
            Screen("campaigns", "Campaigns", "/campaigns", "Every campaign with its live progress and actions."),
            Screen("campaign-wizard", "New campaign", "/campaigns/new", "The wizard's first step."),
            Screen("contacts", "Contacts", "/contacts", "The contacts table with its filters and mass actions."),
            Screen("templates", "Templates", "/templates", "SMS, Viber and WhatsApp templates."),
            Screen("edrs", "Statistics", "/statistics/edr", "One row per message attempt (EDR)."),
            Screen("sender-ids", "Sender IDs", "/senders", "The company's sender IDs and its requests."),
            Screen("purchase", "Purchase", "/purchase", "Packs and rate plans offered by the provider."),
            Screen("finance", "Finance", "/finance", "Every change of the balance, with its breakdown."),
            Screen("api-methods", "API methods", "/api-methods", "Samples filled with the portal's own host."),
        ],
    ),
    "reseller admin": (
        "reseller.localhost",
        [
            Screen("admin-partners", "Admin Panel: partners", "/admin/partners", "The reseller's clients."),
            Screen("admin-rate-plans", "Admin Panel: rate plans", "/admin/rate-plans", "Plans sold to clients."),
            Screen("admin-requests", "Admin Panel: requests", "/admin/requests", "Requests from the clients."),
        ],
    ),
    "system owner admin": (
        "demo.localhost",
        [
            Screen("admin-vendors", "Admin Panel: vendors", "/admin/vendors", "The vendor connections."),
            Screen("admin-portals", "Admin Panel: portals", "/admin/portals", "White-label portals and brands."),
            Screen("admin-audit", "Admin Panel: activity log", "/admin/audit", "Who changed what, as sentences."),
        ],
    ),
}


async def send_a_campaign(port: int, account: dict[str, str]) -> None:
    """One small campaign of the end user, sent to the end, so that the dashboard and statistics have figures."""
    async with api_client(port, "reseller.localhost", account) as client:
        sender = (await client.get("/api/senders?channel=sms")).json()[0]["id"]
        numbers = [f"+4915100000{n:03d}" for n in range(1, 21)]
        created = await client.post(
            "/api/campaigns", json={"name": "Winter sale", "sender_id": sender, "text": "Hi", "numbers": numbers}
        )
        created.raise_for_status()
        for _ in range(600):  # up to two minutes
            answer = await client.get(f"/api/campaigns/{created.json()['id']}")
            if answer.json()["status"] == "completed":
                return
            await asyncio.sleep(0.2)
    raise RuntimeError("the demo campaign did not complete within two minutes")


async def shoot(browser: Browser, port: int, account: dict[str, str], host: str, screens: list[Screen]) -> None:
    base = f"http://{host}:{port}"
    page = await browser.new_page(viewport=VIEWPORT)
    await sign_in(page, base, account["email"], account["password"])
    for screen in screens:
        answer = await page.goto(f"{base}{screen.path}")
        if answer is None or answer.status != 200:
            raise RuntimeError(f"{screen.path} answered {answer.status if answer else 'nothing'}")
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=HERE / f"{screen.file}.png")
        print(f"{screen.file}.png  {host}{screen.path}")
    await page.close()


def write_page() -> None:
    lines = [
        "# The main screens",
        "",
        "Made by `make screenshots` (`docs/screenshots/make.py`) from a fresh demo; run it again when a screen",
        "changes. Each picture is the screen as the demo account named in its heading sees it.",
        "",
    ]
    for role, (host, screens) in SCREENS.items():
        lines += [f"## As the {role} ({host})", ""]
        for screen in screens:
            picture = f"![{screen.title}](screenshots/{screen.file}.png)"
            lines += [f"### {screen.title}", "", screen.what, "", picture, ""]
    (ROOT / "docs" / "screens.md").write_text("\n".join(lines))


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="portal-shots-") as var_dir, demo_server(Path(var_dir)) as (port, accounts):
        by_role = {a["role"]: a for a in accounts}
        await send_a_campaign(port, by_role["end-user admin"])
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for role, (host, screens) in SCREENS.items():
                    await shoot(browser, port, by_role[role], host, screens)
            finally:
                await browser.close()
    write_page()


if __name__ == "__main__":
    asyncio.run(main())
