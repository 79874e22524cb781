"""`portal simulate sms` serves the stand-in SMSC until Ctrl-C, and prints how to connect to it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from core import OutboundMessage, VendorConnection
from plugins.sms.client import SmppClient
from tests.ports import free_port


async def test_portal_simulate_sms_serves_a_bindable_smsc_on_port_until_ctrl_c():
    port = free_port()  # from PORT, as every stand-in takes it when --port is not given
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.cli",
        "simulate",
        "sms",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=os.environ | {"PORTAL_PLUGINS": "sms", "PORT": str(port)},
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            listening = (await process.stdout.readline()).decode()
            settings_line = (await process.stdout.readline()).decode()
        assert listening.strip() == f"sms stand-in listening on 127.0.0.1:{port}"
        settings = json.loads(settings_line.removeprefix("connection settings: "))
        assert settings["port"] == int(listening.rsplit(":", 1)[1]) and settings["system_id"] == "portal"
        client = SmppClient(VendorConnection(id=9, channel="sms", name="cli", settings=settings))
        await client.bind()
        [result] = await client.submit(
            [OutboundMessage(edr_id=1, sender="Shop", destination="4915100000001", text="hi")]
        )
        assert result.accepted and result.vendor_message_id
        await client.stop()
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(10):
            assert await process.wait() == 0


async def test_simulate_names_the_channels_it_knows_when_one_has_no_stand_in():
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.cli", "simulate", "carrier-pigeon", stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 2 and b"no stand-in for channel 'carrier-pigeon'" in err
