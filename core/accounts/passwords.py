"""Password hashing with argon2id, run in a thread because one hash takes ~100 ms of CPU."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import load_settings
from core.web.i18n import N_


@functools.cache
def hashing() -> tuple[PasswordHasher, str]:
    """The hasher at the cost the settings give, and a hash made at that cost to verify against when the e-mail is
    unknown, so that a miss costs as long as a wrong password. Built on first use; ``hashing.cache_clear()`` after
    the settings change."""
    settings = load_settings()
    hasher = PasswordHasher(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib)
    return hasher, hasher.hash("campaign-portal timing equaliser")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(lambda: hashing()[0].hash(password))


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        hasher, dummy_hash = hashing()
        try:
            return hasher.verify(password_hash or dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


PASSWORD_RULES = N_("At least 10 characters, with at least one letter and one digit, and not your e-mail address.")


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is too weak (the rule it breaks), or None when it is acceptable."""
    if len(password) < 10:
        return N_("The password needs at least 10 characters")
    if len(password) > 200:
        return N_("The password may have at most 200 characters")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return N_("The password needs at least one letter and one digit")
    if email and password.strip().lower() == email.strip().lower():
        return N_("The password must not be your e-mail address")
    return None
