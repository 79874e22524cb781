"""Sign-up and password reset take as long for a known e-mail as for an unknown one (no account enumeration)."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from core.accounts import registration
from core.accounts.passwords import hashing
from core.accounts.registration import RESET_TASK
from core.mail.services import DELIVERY_TASK
from core.settings import Settings
from tests.core.accounts.test_registration import reset_mails
from tests.factories import csrf, make_world, set_portal_flags

ROUNDS = 15
# A reset answers in a few milliseconds, where the machine's own jitter is as large: more rounds steady the median.
RESET_ROUNDS = 41
# Generous, so that a busy machine does not fail it; the leak it guards against was a ratio of about 0.1.
LOW, HIGH = 0.5, 2.0
OUR_TASKS = {RESET_TASK, DELIVERY_TASK}


async def _idle(app: Any) -> None:
    """Wait for the jobs of the last call to finish: the worker shares this event loop and would slow the next.

    Only the jobs these calls queue count; the periodic tasks and other tests' leftovers are not ours to wait for.
    """
    queue = app.state.portal.queue
    # Long: on a busy machine earlier tests' jobs can hold every worker slot for a while.
    deadline = time.monotonic() + 60
    while busy := [j for j in (await queue.info(jobs=True, limit=1000))["jobs"] if j["function"] in OUR_TASKS]:
        assert time.monotonic() < deadline, busy
        await asyncio.sleep(0.005)


async def _timed(app: Any, call: Callable[[], Awaitable[httpx.Response]]) -> float:
    await _idle(app)
    start = time.perf_counter()
    response = await call()
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text
    return elapsed


async def _medians(
    known: Callable[[int], Awaitable[float]], unknown: Callable[[int], Awaitable[float]], rounds: int = ROUNDS
) -> tuple[float, float]:
    # Alternating, and each side first in every other round, so that neither a slow spell of the machine nor what
    # the previous call left behind weighs on one side only; one warm-up each first.
    await known(-1), await unknown(-1)
    known_times, unknown_times = [], []
    for i in range(rounds):
        if i % 2:
            unknown_times.append(await unknown(i))
            known_times.append(await known(i))
        else:
            known_times.append(await known(i))
            unknown_times.append(await unknown(i))
    return statistics.median(known_times), statistics.median(unknown_times)


@pytest.fixture
def unlimited(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hourly limits per address would stop the repeated calls long before the measurement ends."""
    monkeypatch.setattr(registration, "SIGNUPS_PER_IP_PER_HOUR", 1000)
    monkeypatch.setattr(registration, "RESETS_PER_HOUR", 1000)


@pytest.fixture
def production_cost(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Password hashing at production's cost, not at the suite's cheap one: that cost is what would leak."""
    monkeypatch.delenv("PORTAL_PASSWORD_TIME_COST")
    monkeypatch.delenv("PORTAL_PASSWORD_MEMORY_KIB")
    hashing.cache_clear()
    assert hashing()[0].time_cost == Settings().password_time_cost
    yield
    hashing.cache_clear()  # the next hash is made once the environment is the suite's again


async def test_sign_up_takes_as_long_for_a_registered_email(app, client_for, redis_url, unlimited, production_cost):
    world = await make_world()
    await set_portal_flags(world.a.portal_id, self_registration=True)
    client = client_for(world.a.host)
    redis = Redis.from_url(redis_url)

    async def sign_up(email: str, company: str) -> float:
        # The captcha is read outside the timed part: only the answer to the form counts.
        page = await client.get("/signup")
        challenge = re.search(r'name="captcha_id" value="([^"]+)"', page.text).group(1)
        answer = (await redis.get(f"captcha:{challenge}")).decode()
        form = {
            "first_name": "Nadia",
            "last_name": "Novak",
            "company": company,
            "email": email,
            "password": "good-password-42",
            "password_confirm": "good-password-42",
            "captcha_id": challenge,
            "captcha": answer,
            "_csrf_token": csrf(client),
        }
        return await _timed(app, lambda: client.post("/signup", data=form))

    known, unknown = await _medians(
        lambda i: sign_up(world.b.end_user_admin, f"Copycat {i}"), lambda i: sign_up(f"new{i}@x.test", f"New Co {i}")
    )
    await redis.aclose()
    print(f"sign-up medians: known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert LOW < known / unknown < HIGH


async def test_password_reset_takes_as_long_for_a_registered_email(app, client_for, unlimited, production_cost):
    world = await make_world()
    client = client_for(world.a.host)
    await client.get("/password/forgot")

    async def forgot(email: str) -> float:
        form = {"email": email, "_csrf_token": csrf(client)}
        return await _timed(app, lambda: client.post("/password/forgot", data=form))

    # One unknown address as there is one known: a first request for an address also starts its hourly counter.
    known, unknown = await _medians(
        lambda i: forgot(world.a.end_user_admin), lambda i: forgot("ghost@a.test"), RESET_ROUNDS
    )
    print(f"reset medians: known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert LOW < known / unknown < HIGH
    # The mails are written by jobs: let them finish here rather than in the next test's fresh database.
    await reset_mails(world.a.end_user_admin, RESET_ROUNDS + 1)
