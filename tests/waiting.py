"""Waiting on conditions, never on fixed sleeps: the one poll loop every test uses."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def eventually(condition: Callable[[], Awaitable[T] | T], within: float = 30.0, every: float = 0.02) -> T:
    """Poll ``condition()`` (plain or async) until it returns something truthy, and return that.

    Fails the test after ``within`` seconds with the condition's name, instead of waiting a guessed time.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value: Any = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            name = getattr(condition, "__qualname__", repr(condition))
            raise AssertionError(f"{name} did not hold within {within} s")
        await asyncio.sleep(every)
