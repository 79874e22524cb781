"""Sign-in, sign-out, account settings pages and the API's token endpoint."""

from __future__ import annotations

import base64
import binascii
from zoneinfo import available_timezones

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from core.accounts import services, sessions
from core.accounts.guards import current_actor, request_portal
from core.accounts.schemas import ApiToken, ProfileUpdate, SignIn
from core.errors import PortalError, Unauthenticated
from core.portal import Portal
from core.tenancy.schemas import Actor
from core.web.forms import parse_form
from core.web.shell import client_ip, page
from core.web.templating import DATE_FORMATS, render


def safe_next(target: str | None) -> str:
    """Only same-site paths: '//evil.example' and 'https://…' would be open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _session_cookie(portal: Portal, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=sessions.COOKIE_NAME,
        value=value,
        max_age=max_age,
        httponly=True,
        secure=portal.settings.cookie_secure,
        samesite="lax",
        path="/",
    )


class SignInPages(Controller):
    tags = ["Accounts"]
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request, next: FromQuery[str] = "/") -> Response:
        if await current_actor(request):
            return Redirect(safe_next(next))
        return render(request, "accounts/login.html", {"next": safe_next(next), "email": ""})

    @post("/login")
    async def login(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        form = await request.form()
        email, next_url = str(form.get("email", "")), safe_next(form.get("next"))
        try:
            data = SignIn(email=email, password=str(form.get("password", "")), next=next_url)
            if not data.email or not data.password:
                raise Unauthenticated("Enter your e-mail and password")
            actor = await services.authenticate(
                portal.redis, portal.settings, request_portal(request), data.email, data.password, client_ip(request)
            )
        except PortalError as exc:
            status = 429 if exc.status_code == 429 else 400
            return render(
                request,
                "accounts/login.html",
                {"next": next_url, "email": email, "error": exc.detail},
                status_code=status,
            )
        old = request.cookies.get(sessions.COOKIE_NAME)
        if old:
            await sessions.destroy(portal.redis, old)
        max_age = portal.settings.session_max_age
        token = await sessions.create(
            portal.redis, sessions.SessionData(user_id=actor.user_id, portal_id=actor.portal_id), max_age
        )
        return Redirect(next_url, cookies=[_session_cookie(portal, token, max_age)])

    @post("/logout")
    async def logout(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        token = request.cookies.get(sessions.COOKIE_NAME)
        if token:
            await sessions.destroy(portal.redis, token)
        return Redirect("/login", cookies=[_session_cookie(portal, "", 0)])


class AccountPages(Controller):
    path = "/account"
    include_in_schema = False

    @get("/")
    async def account(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await page(request, actor, "accounts/account.html", self._context())

    @post("/")
    async def save_account(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            await services.update_profile(actor, await parse_form(request, ProfileUpdate))
        except PortalError as exc:
            return await page(
                request,
                actor,
                "accounts/account.html",
                {**self._context(), "error": exc.detail},
                status_code=exc.status_code,
            )
        return Redirect("/account?saved=1")

    @post("/theme")
    async def toggle_theme(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        await services.set_theme(actor, "light" if actor.theme == "dark" else "dark")
        return Redirect(safe_next((await request.form()).get("next")))

    @staticmethod
    def _context() -> dict[str, object]:
        return {"date_formats": list(DATE_FORMATS), "timezones": sorted(available_timezones())}


class ApiAuth(Controller):
    path = "/api/auth"
    tags = ["Accounts"]

    @post(
        "/login",
        summary="Exchange HTTP Basic e-mail:password for a short-lived bearer token",
        status_code=200,
        security=[{"basic": []}],
    )
    async def login(self, request: Request) -> ApiToken:
        portal: Portal = request.app.state.portal
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            email, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            email = password = ""
        if scheme.lower() != "basic" or not email or not password:
            raise Unauthenticated("Send the e-mail and password with HTTP Basic authentication")
        actor = await services.authenticate(
            portal.redis, portal.settings, request_portal(request), email, password, client_ip(request)
        )
        return services.issue_api_token(portal.settings, actor)
