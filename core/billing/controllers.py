"""Admin Panel pages and REST API of rate plans, rates and their assignment to partners."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
