"""Single-use, expiring links sent by e-mail (sign-up confirmation, password reset)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from core.accounts.tables import AccountToken
from core.db import write_transaction
from core.errors import InvalidInput
from core.web.i18n import N_

LIFETIMES = {"confirm": timedelta(days=2), "reset": timedelta(hours=1)}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(user_id: int, purpose: str) -> str:
    """A new token for ``purpose``; earlier unused tokens of the same purpose stop working."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with write_transaction():
        await AccountToken.update({AccountToken.used_at: now}).where(
            (AccountToken.user == user_id) & (AccountToken.purpose == purpose) & AccountToken.used_at.is_null()
        )
        await AccountToken.insert(
            AccountToken(user=user_id, purpose=purpose, token_hash=_digest(token), expires_at=now + LIFETIMES[purpose])
        )
    return token


async def _live(token: str, purpose: str) -> dict:
    row = (
        await AccountToken.select()
        .where((AccountToken.token_hash == _digest(token or "")) & (AccountToken.purpose == purpose))
        .first()
    )
    if row is None:
        raise InvalidInput(N_("This link is not valid. Check that you copied it whole."), field="token")
    if row["used_at"] is not None:
        raise InvalidInput(N_("This link was already used or replaced by a newer one."), field="token")
    if row["expires_at"] < datetime.now(UTC):
        raise InvalidInput(N_("This link has expired. Ask for a new one."), field="token")
    return row


async def peek(token: str, purpose: str) -> int:
    """The user id of a live token, without using it up (to validate a form before redeeming)."""
    return (await _live(token, purpose))["user"]


async def redeem(token: str, purpose: str) -> int:
    """Use a token once and return its user id.

    Raises:
        InvalidInput: the link is unknown, already used or expired (the message says which).
    """
    async with write_transaction():
        row = await _live(token, purpose)
        await AccountToken.update({AccountToken.used_at: datetime.now(UTC)}).where(AccountToken.id == row["id"])
    return row["user"]
