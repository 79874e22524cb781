"""`portal simulate viber` serves the stand-in aggregator until Ctrl-C, on the port PORT names."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest

from core import OutboundMessage, VendorConnection
from plugins.viber.provider import ViberChannel
from tests.plugins.viber.conftest import Recorder
from tests.ports import free_port


@pytest.fixture(autouse=True)
async def clean_state() -> None:
    """Replaces the suite's autouse fixture: these tests touch no table."""


async def test_portal_simulate_viber_serves_the_aggregator_api_on_port_until_ctrl_c():
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.cli",
        "simulate",
        "viber",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=os.environ | {"PORTAL_PLUGINS": "viber", "PORT": str(port)},
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            listening = (await process.stdout.readline()).decode()
            settings_line = (await process.stdout.readline()).decode()
        assert listening.strip() == f"viber stand-in listening on 127.0.0.1:{port}"
        settings = json.loads(settings_line.removeprefix("connection settings: "))
        assert settings["api_url"] == f"http://127.0.0.1:{port}" and settings["webhook_secret"]
        channel = ViberChannel()
        await channel.start(Recorder([VendorConnection(id=1, channel="viber", name="cli", settings=settings)]))  # type: ignore[arg-type]
        [result] = await channel.send_batch(
            [OutboundMessage(edr_id=1, sender="Shop", destination="+4915100000001", text="hi")]
        )
        await channel.stop()
        assert result.accepted and result.vendor_message_id == "1"
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(10):
            assert await process.wait() == 0
