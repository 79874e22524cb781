"""Headless Chromium through the whole account story: sign up, confirm by e-mail, 2FA, switch to Spanish."""

from __future__ import annotations

import asyncio
import email
import re
import time
from collections.abc import Iterator
from email.message import Message

import httpx
import pyotp
import pytest
from aiosmtpd.controller import Controller
from playwright.async_api import async_playwright
from redis.asyncio import Redis

from core.web.i18n import translations
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, SHOTS, demo_server
from tests.ports import free_port
from tests.redis_dbs import SIGN_UP, side_db

pytestmark = pytest.mark.browser


class Inbox:
    """An SMTP server on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def server(tmp_path, smtp, redis_url, clean_state) -> Iterator[dict]:
    """The demo server with SMTP to the inbox and its own Redis database (the test reads captchas there)."""
    _, smtp_port = smtp
    redis = side_db(redis_url, SIGN_UP)
    with demo_server(tmp_path, SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", REDIS_URL=redis) as (port, accounts):
        yield {"port": port, "redis": redis, "accounts": accounts}


async def wait_for_mail(inbox: Inbox, to: str, subject_has: str, seconds: float = 20) -> Message:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in inbox.messages:
            if to in message["To"] and subject_has in message["Subject"]:
                return message
        await asyncio.sleep(0.2)
    raise AssertionError(f"no mail to {to} about {subject_has!r}; got {[m['Subject'] for m in inbox.messages]}")


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


async def test_sign_up_confirm_two_factor_and_spanish(server, smtp):
    inbox, _ = smtp
    base = f"http://demo.localhost:{server['port']}"
    owner = next(a for a in server["accounts"] if a["role"] == "system owner admin")
    # httpx does not resolve *.localhost the way browsers do: go to loopback and name the portal in Host.
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server['port']}", headers={"Host": "demo.localhost"}
    ) as api:
        token = (await api.post("/api/auth/login", auth=(owner["email"], owner["password"]))).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        portals = (await api.get("/api/admin/portals", headers=headers)).json()["items"]
        demo = next(p for p in portals if "demo.localhost" in p["hosts"])
        switched = await api.patch(f"/api/admin/portals/{demo['id']}", headers=headers, json={"require_2fa": True})
        assert switched.json()["require_2fa"] is True
    redis = Redis.from_url(server["redis"])
    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            await page.goto(base + "/login")
            await page.click("text=Create an account")
            await page.wait_for_url(base + "/signup")
            await page.fill("input[name=first_name]", "Lucía")
            await page.fill("input[name=last_name]", "Gómez")
            await page.fill("input[name=company]", "Gómez Flores")
            await page.fill("input[name=email]", "lucia@gomez.test")
            await page.fill("input[name=password]", "flores-2026-abril")
            await page.fill("input[name=password_confirm]", "flores-2026-abril")
            challenge = await page.locator("input[name=captcha_id]").input_value()
            assert await page.locator("img[src^='/captcha/']").evaluate("img => img.naturalWidth") == 200
            answer = (await redis.get(f"captcha:{challenge}")).decode()  # what a person reads off the picture
            await page.fill("input[name=captcha]", answer)
            await page.check("input[name=consent]")
            await page.screenshot(path=SHOTS / "signup-form.png", full_page=True)
            await page.click("form[action='/signup'] button[type=submit]")
            await page.wait_for_selector("text=Check your inbox")
            await page.screenshot(path=SHOTS / "signup-sent.png")

            mail = await wait_for_mail(inbox, "lucia@gomez.test", "Confirm your")
            assert "Campaign Portal Demo" in mail["Subject"]
            link = re.search(r"https?://\S+/signup/confirm\?token=[\w-]+", text_part(mail)).group(0)
            await page.goto(link)
            await page.wait_for_selector("text=Your account is active")

            await page.fill("input[name=email]", "lucia@gomez.test")
            await page.fill("input[name=password]", "flores-2026-abril")
            await page.click("form[action='/login'] button[type=submit]")
            await page.wait_for_url(base + "/login/2fa")
            secret = await page.get_by_test_id("totp-secret").inner_text()
            assert await page.locator(".qr svg").count() == 1
            await page.screenshot(path=SHOTS / "two-factor-enrol.png", full_page=True)
            secret_mail = await wait_for_mail(inbox, "lucia@gomez.test", "two-factor")
            assert secret in text_part(secret_mail)
            await page.fill("input[name=code]", pyotp.TOTP(secret).now())
            await page.click("form[action='/login/2fa'] button[type=submit]")
            await page.wait_for_url(base + "/")
            assert await page.locator(".brand-name").inner_text() == "Campaign Portal Demo"

            await page.goto(base + "/account")
            await page.select_option("select[name=language]", "es")
            await page.click("form[action='/account'] button[type=submit]")
            await page.wait_for_url(base + "/account?saved=1")
            spanish = translations("es")
            menu = await page.locator(".menu-link").all_inner_texts()
            assert spanish.gettext("Dashboard") in menu and spanish.gettext("Dashboard") != "Dashboard"
            assert await page.locator("html").get_attribute("lang") == "es"
            await page.screenshot(path=SHOTS / "account-spanish.png", full_page=True)
        finally:
            await browser.close()
            await redis.aclose()
