"""`portal worker` never plays a vendor: with PORTAL_DEV=1 it leaves a local vendor connection's port alone."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from core.dispatch.tables import VendorConnection
from core.worker import worker_count
from tests.core.dispatch.workers import start_worker, stop, workers_portal
from tests.ports import free_port
from tests.waiting import eventually


def _can_listen(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def test_a_worker_in_dev_mode_starts_no_stand_in(app, settings, tmp_path: Path):
    """A restarted worker used to start the stand-in SMSC on the vendor's own port and refuse our binds to it."""
    port = free_port()
    now = datetime.now(UTC)
    await VendorConnection.insert(
        VendorConnection(
            channel="sms",
            name="Vendor on this machine",
            settings={"host": "127.0.0.1", "port": port, "system_id": "portal", "password": "secret"},
            enabled=True,
            created_at=now,
            updated_at=now,
        )
    )
    async with workers_portal(settings) as portal:
        worker = start_worker(portal.settings.redis_url, tmp_path / "worker.log", PORTAL_DEV="1")
        try:
            # Its saq worker reports only after the process's start-up, where stand-ins were started.
            await eventually(lambda: _reported(portal), within=60)
            assert worker.poll() is None
            assert _can_listen(port)
        finally:
            stop(worker)


async def _reported(portal) -> bool:
    return await worker_count(portal.queue) > 0
