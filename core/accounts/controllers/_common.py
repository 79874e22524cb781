"""Helpers shared by the accounts pages: safe redirects and the session cookie."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect

from core.accounts import sessions
from core.actor import Actor
from core.portal import Portal


def safe_next(target: str | None) -> str:
    """Only same-site paths: '//evil.example' and 'https://…' would be open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def cookie(portal: Portal, key: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        httponly=True,
        secure=portal.settings.cookie_secure,
        samesite="lax",
        path="/",
    )


async def start_session(
    request: Request, actor: Actor, next_url: str, *, extra: list[Cookie] | None = None
) -> Redirect:
    """A fresh session id at every sign-in (no fixation); the old one, if any, ends."""
    portal: Portal = request.app.state.portal
    old = request.cookies.get(sessions.COOKIE_NAME)
    if old:
        await sessions.destroy(portal.redis, old)
    max_age = portal.settings.session_max_age
    token = await sessions.create(
        portal.redis, sessions.SessionData(user_id=actor.user_id, portal_id=actor.portal_id), max_age
    )
    return Redirect(safe_next(next_url), cookies=[cookie(portal, sessions.COOKIE_NAME, token, max_age), *(extra or [])])
