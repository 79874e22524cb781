"""A real demo server for browser tests: `portal demo` then `portal run`, as `make run` does."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page
from redis import Redis as SyncRedis

from tests.ports import free_port
from tests.redis_dbs import DEMO_SERVERS, side_db

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def demo_server(var_dir: Path, **env_overrides: str) -> Iterator[tuple[int, list[dict]]]:
    """Seed the demo in a fresh var/ directory, start the portal on a free port; yields (port, demo accounts)."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_VAR_DIR": str(var_dir),
        "PORTAL_DEV": "1",
        "PORT": str(port),
        "PORTAL_STANDIN_SMS_PORT": str(free_port()),  # never the fixed demo port another run may hold
        "PORTAL_STANDIN_VIBER_PORT": str(free_port()),
        "PORTAL_STANDIN_WHATSAPP_PORT": str(free_port()),
        "PORTAL_STANDIN_PAYMENTS_PORT": str(free_port()),
        **env_overrides,
    }
    if env.get("REDIS_URL") and "REDIS_URL" not in env_overrides:
        # Not the test process's own database: its worker would take the demo's jobs and run them on the wrong
        # database. The demo owns this one, emptied first.
        env["REDIS_URL"] = side_db(env["REDIS_URL"], DEMO_SERVERS)
        SyncRedis.from_url(env["REDIS_URL"]).flushdb()
    demo = subprocess.run(
        [sys.executable, "-m", "core.cli", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    accounts = json.loads(demo.stdout.strip().splitlines()[-1])
    log = var_dir / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "run"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        deadline, health = time.monotonic() + 60, ""
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except httpx.HTTPError as error:
                health = repr(error)
            else:
                if answer.status_code == 200:
                    break
                health = answer.text
            time.sleep(0.2)
        else:
            log_lines = [line for line in log.read_text().splitlines() if "/healthz" not in line]
            pytest.fail(f"the demo server did not become healthy within 60 s: {health}\n" + "\n".join(log_lines[-40:]))
        yield port, accounts
    finally:
        server.terminate()
        server.wait(timeout=20)


async def sign_in(page: Page, base: str, email: str, password: str) -> None:
    """Sign in through the real form at ``base`` (whoever was signed in before is forgotten) and wait for home."""
    await page.context.clear_cookies()
    await page.goto(f"{base}/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click('form[action="/login"] button[type=submit]')
    await page.wait_for_url(f"{base}/")


@asynccontextmanager
async def api_client(port: int, host: str, account: dict) -> AsyncIterator[httpx.AsyncClient]:
    """An API client of the server on ``port`` for ``host``, signed in as ``account``."""
    basic = base64.b64encode(f"{account['email']}:{account['password']}".encode()).decode()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"Host": host}, timeout=10) as client:
        login = await client.post("/api/auth/login", headers={"Authorization": f"Basic {basic}"})
        login.raise_for_status()
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        yield client
