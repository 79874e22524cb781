"""Sign-in (password, then the TOTP code when the portal requires it), sign-out and the API's token endpoint."""

from __future__ import annotations

import base64
import binascii

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from core.accounts import services, sessions, twofactor
from core.accounts.controllers._common import cookie, safe_next, start_session
from core.accounts.guards import current_actor, request_portal
from core.accounts.schemas import ApiToken, SignIn
from core.accounts.tables import User
from core.db import must_exist
from core.errors import PortalError, Unauthenticated
from core.mail.services import send_mail
from core.portal import Portal
from core.web.i18n import LANGUAGE_COOKIE, N_
from core.web.templating import render


class SignInPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request, next: FromQuery[str] = "/") -> Response:
        if await current_actor(request):
            return Redirect(safe_next(next))
        notice = {
            "confirmed": N_("Your account is active. Sign in."),
            "reset": N_("Your password was changed. Sign in."),
            "locked": N_("Too many wrong codes. Sign in again later."),
        }.get(request.query_params.get("done", ""))
        return render(request, "accounts/login.html", {"next": safe_next(next), "email": "", "notice": notice})

    @post("/login")
    async def login(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        site = request_portal(request)
        form = await request.form()
        email, next_url = str(form.get("email", "")), safe_next(form.get("next"))
        try:
            data = SignIn(email=email, password=str(form.get("password", "")), next=next_url)
            if not data.email or not data.password:
                raise Unauthenticated("Enter your e-mail and password")
            actor = await services.authenticate(portal, site, data.email, data.password, _ip(request))
        except PortalError as exc:
            return render(
                request,
                "accounts/login.html",
                {"next": next_url, "email": email, "error": exc.detail},
                status_code=429 if exc.status_code == 429 else 400,
            )
        # A language chosen with the picker before signing in is the user's choice from now on.
        chosen = request.cookies.get(LANGUAGE_COOKIE, "")
        if chosen in site.languages and chosen != actor.language:
            await services.set_language(actor, chosen)
        if not site.require_2fa:
            return await start_session(request, actor, next_url)
        pending = await twofactor.start(
            portal.redis, twofactor.PendingSignIn(user_id=actor.user_id, portal_id=site.id, next=next_url)
        )
        if await twofactor.needs_enrolment(actor.user_id):
            secret, created = await twofactor.secret_for_enrolment(actor.user_id)
            if created:
                await send_mail(
                    portal,
                    to=actor.email,
                    template="totp_secret",
                    language=actor.language,
                    site=site,
                    context={"first_name": actor.first_name, "secret": secret},
                )
        return Redirect(
            "/login/2fa", cookies=[cookie(portal, twofactor.PENDING_COOKIE, pending, twofactor.PENDING_SECONDS)]
        )

    async def _code_page(
        self,
        request: Request,
        pending: twofactor.PendingSignIn,
        *,
        error: str = "",
        attempts_left: int | None = None,
        status_code: int = 200,
    ) -> Response:
        user = must_exist(
            await User.select(User.email, User.totp_secret, User.totp_confirmed)
            .where(User.id == pending.user_id)
            .first()
        )
        context: dict[str, object] = {
            "error": error,
            "enrol": not user["totp_confirmed"],
            "attempts_left": attempts_left,
        }
        if not user["totp_confirmed"]:
            site = request_portal(request)
            uri = twofactor.provisioning_uri(user["totp_secret"], user["email"], site.brand_name)
            context.update(secret=user["totp_secret"], qr=twofactor.qr_svg(uri))
        return render(request, "accounts/two_factor.html", context, status_code=status_code)

    @get("/login/2fa")
    async def code_form(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        pending = await twofactor.load(portal.redis, request.cookies.get(twofactor.PENDING_COOKIE))
        if pending is None or pending.portal_id != request_portal(request).id:
            return Redirect("/login")
        return await self._code_page(request, pending)

    @post("/login/2fa")
    async def check_code(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        site = request_portal(request)
        token = request.cookies.get(twofactor.PENDING_COOKIE, "")
        pending = await twofactor.load(portal.redis, token)
        if pending is None or pending.portal_id != site.id:
            return Redirect("/login")
        code = str((await request.form()).get("code", ""))
        enrolling = await twofactor.needs_enrolment(pending.user_id)
        if await twofactor.accept_code(pending.user_id, code, confirming=enrolling):
            await twofactor.finish(portal.redis, token)
            actor = await services.load_actor(pending.user_id, site.id)
            if actor is None:
                return Redirect("/login")
            await services.sign_in_succeeded(portal, site, actor, _ip(request))
            return await start_session(
                request, actor, pending.next, extra=[cookie(portal, twofactor.PENDING_COOKIE, "", 0)]
            )
        left = await twofactor.count_attempt(portal.redis, token, pending)
        if left == 0:
            user = must_exist(await User.select(User.email).where(User.id == pending.user_id).first())
            await services.count_failure(portal, site, user["email"], _ip(request), lock=True)
            return Redirect("/login?done=locked", cookies=[cookie(portal, twofactor.PENDING_COOKIE, "", 0)])
        return await self._code_page(
            request, pending, status_code=400, attempts_left=left, error=N_("Wrong or already used code.")
        )

    @post("/logout")
    async def logout(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        token = request.cookies.get(sessions.COOKIE_NAME)
        if token:
            await sessions.destroy(portal.redis, token)
        return Redirect("/login", cookies=[cookie(portal, sessions.COOKIE_NAME, "", 0)])


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


class ApiAuth(Controller):
    path = "/api/auth"
    tags = ["Accounts"]

    @post(
        "/login",
        summary="Exchange HTTP Basic e-mail:password for a short-lived bearer token",
        status_code=200,
        security=[{"basic": []}],
        description="When the portal requires 2FA, send the current code in X-OTP-Code.",
    )
    async def login(self, request: Request) -> ApiToken:
        portal: Portal = request.app.state.portal
        site = request_portal(request)
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            email, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            email = password = ""
        if scheme.lower() != "basic" or not email or not password:
            raise Unauthenticated("Send the e-mail and password with HTTP Basic authentication")
        actor = await services.authenticate(portal, site, email, password, _ip(request))
        if site.require_2fa:
            if await twofactor.needs_enrolment(actor.user_id):
                raise Unauthenticated(N_("Set up two-factor sign-in in the browser first"))
            if not await twofactor.accept_code(actor.user_id, request.headers.get("x-otp-code", "")):
                await services.count_failure(portal, site, actor.email, _ip(request))
                raise Unauthenticated("This portal requires the current one-time code in the X-OTP-Code header")
            await services.sign_in_succeeded(portal, site, actor, _ip(request))
        return await services.issue_api_token(portal.settings, actor)
