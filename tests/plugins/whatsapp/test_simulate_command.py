"""`portal simulate whatsapp` serves the stand-in Cloud API until Ctrl-C, on the port PORT names."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest

from core import VendorConnection
from tests.plugins.whatsapp.conftest import messages, started
from tests.ports import free_port


@pytest.fixture(autouse=True)
async def clean_state() -> None:
    """Replaces the suite's autouse fixture: these tests touch no table."""


async def test_portal_simulate_whatsapp_serves_the_cloud_api_on_port_until_ctrl_c():
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.cli",
        "simulate",
        "whatsapp",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=os.environ | {"PORTAL_PLUGINS": "whatsapp", "PORT": str(port)},
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            listening = (await process.stdout.readline()).decode()
            settings_line = (await process.stdout.readline()).decode()
        assert listening.strip() == f"whatsapp stand-in listening on 127.0.0.1:{port}"
        settings = json.loads(settings_line.removeprefix("connection settings: "))
        assert settings["api_url"] == f"http://127.0.0.1:{port}" and settings["app_secret"]
        channel = await started(VendorConnection(id=1, channel="whatsapp", name="cli", settings=settings))
        [result] = await channel.send_batch(messages(1))
        await channel.stop()
        assert result.accepted and result.vendor_message_id == "wamid.1"
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(10):
            assert await process.wait() == 0
