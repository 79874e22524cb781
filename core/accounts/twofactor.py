"""Two-factor sign-in with TOTP (ACC-3): enrolment, codes accepted once, a pending state between the steps."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import msgspec
import pyotp
import qrcode
import qrcode.image.svg
from redis.asyncio import Redis

from core.accounts.tables import User
from core.db import must_exist

PENDING_SECONDS = 300
MAX_CODE_ATTEMPTS = 5
PENDING_COOKIE = "portal_2fa"


class PendingSignIn(msgspec.Struct, kw_only=True):
    """A user who passed the password step and still owes a code."""

    user_id: int
    portal_id: int
    next: str = "/"
    attempts: int = 0


def _key(token: str) -> str:
    return "pending_2fa:" + hashlib.sha256(token.encode()).hexdigest()


async def start(redis: Redis, pending: PendingSignIn) -> str:
    token = secrets.token_urlsafe(32)
    await redis.set(_key(token), msgspec.json.encode(pending), ex=PENDING_SECONDS)
    return token


async def load(redis: Redis, token: str | None) -> PendingSignIn | None:
    raw = await redis.get(_key(token)) if token else None
    return msgspec.json.decode(raw, type=PendingSignIn) if raw else None


async def count_attempt(redis: Redis, token: str, pending: PendingSignIn) -> int:
    """Record a wrong code; returns the attempts left (the pending state ends at zero)."""
    pending.attempts += 1
    left = MAX_CODE_ATTEMPTS - pending.attempts
    if left <= 0:
        await redis.delete(_key(token))
    else:
        await redis.set(_key(token), msgspec.json.encode(pending), keepttl=True)
    return max(left, 0)


async def finish(redis: Redis, token: str) -> None:
    await redis.delete(_key(token))


async def secret_for_enrolment(user_id: int) -> tuple[str, bool]:
    """The user's unconfirmed secret and whether it was just created (then it is mailed once).

    A confirmed secret is never shown again here; only Account settings > Security replaces it.
    """
    row = must_exist(await User.select(User.totp_secret, User.totp_confirmed).where(User.id == user_id).first())
    if row["totp_secret"] and not row["totp_confirmed"]:
        return row["totp_secret"], False
    secret = pyotp.random_base32()
    await User.update({User.totp_secret: secret, User.totp_confirmed: False, User.totp_last_step: 0}).where(
        User.id == user_id
    )
    return secret, True


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code for authenticator apps."""
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(buffer)
    return buffer.getvalue().decode()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code equals ``code``, one step of clock drift either way (RFC 6238 §5.2)."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(int(now))
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def accept_code(user_id: int, code: str, *, confirming: bool = False) -> bool:
    """True when ``code`` is right and not used before; the step is recorded in one conditional update.

    With ``confirming`` the user's new secret becomes confirmed by this first code.
    """
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return False
    row = await User.select(User.totp_secret, User.totp_confirmed).where(User.id == user_id).first()
    if not row or not row["totp_secret"] or row["totp_confirmed"] == confirming:
        return False
    step = _matching_step(row["totp_secret"], code, time.time())
    if step is None:
        return False
    # Two requests racing with the same code: only one update finds totp_last_step below the step.
    changed = await User.raw(
        "UPDATE portal_user SET totp_last_step = {}, totp_confirmed = {} WHERE id = {} AND totp_last_step < {} "
        "RETURNING id",
        step,
        True,
        user_id,
        step,
    )
    return bool(changed)


async def regenerate(user_id: int) -> str:
    """A fresh, already confirmed secret (the caller proved password and a current code)."""
    secret = pyotp.random_base32()
    await User.update({User.totp_secret: secret, User.totp_confirmed: True, User.totp_last_step: 0}).where(
        User.id == user_id
    )
    return secret


async def needs_enrolment(user_id: int) -> bool:
    row = must_exist(await User.select(User.totp_confirmed).where(User.id == user_id).first())
    return not row["totp_confirmed"]
