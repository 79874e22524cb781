"""Admin Panel pages and REST API of the numbering book."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
