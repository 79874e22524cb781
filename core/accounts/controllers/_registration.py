"""Sign-up with captcha and e-mail confirmation, and password reset by e-mail."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from core.accounts import captcha, registration
from core.accounts.guards import request_portal
from core.accounts.passwords import PASSWORD_RULES
from core.errors import InvalidInput, NotFound, PortalError
from core.portal import Portal
from core.web.forms import convert
from core.web.i18n import N_, pick_language
from core.web.templating import render


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


class RegistrationPages(Controller):
    include_in_schema = False

    async def _signup_page(
        self,
        request: Request,
        *,
        values: dict[str, Any] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        portal: Portal = request.app.state.portal
        site = request_portal(request)
        if not site.self_registration:
            raise NotFound("Page")
        return render(
            request,
            "accounts/signup.html",
            {
                "values": values or {},
                "error": error,
                "error_field": field,
                "rules": PASSWORD_RULES,
                "captcha_id": await captcha.new_challenge(portal.redis),
                "fields": site.registration_fields,
                "needs_consent": bool(site.terms_url or site.consent_text),
            },
            status_code=status_code,
        )

    @get("/signup")
    async def signup_form(self, request: Request) -> Response:
        return await self._signup_page(request)

    @post("/signup")
    async def signup(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        site = request_portal(request)
        form = await request.form()
        values = {key: form.get(key) for key in form}
        data_in = {k: v for k, v in values.items() if not k.startswith(("custom.", "_csrf"))}
        data_in["consent"] = "consent" in form
        data_in["custom"] = {k.removeprefix("custom."): v for k, v in values.items() if k.startswith("custom.")}
        data_in.setdefault("language", pick_language(request, None, site))
        try:
            data = convert(data_in, registration.SignUp)
            await registration.register(portal, site, data, ip=_ip(request))
        except PortalError as exc:
            values.pop("password", None), values.pop("password_confirm", None), values.pop("captcha", None)
            return await self._signup_page(
                request, values=values, error=exc.detail, field=exc.field, status_code=exc.status_code
            )
        return render(
            request,
            "accounts/message.html",
            {
                "title": N_("Check your inbox"),
                "message": N_(
                    "We sent a confirmation link to the address you entered. Open it to activate your account; "
                    "it works once and for 48 hours."
                ),
            },
        )

    @get("/signup/confirm")
    async def confirm(self, request: Request, token: FromQuery[str] = "") -> Response:
        try:
            await registration.confirm(token)
        except InvalidInput as exc:
            return render(
                request,
                "accounts/message.html",
                {"title": N_("This link does not work"), "message": exc.detail, "error": True},
                status_code=400,
            )
        return Redirect("/login?done=confirmed")

    @get("/captcha/{challenge:str}", media_type="image/png")
    async def captcha_image(self, request: Request, challenge: FromPath[str]) -> Response:
        portal: Portal = request.app.state.portal
        png = await captcha.image(portal.redis, challenge.removesuffix(".png"))
        if png is None:
            raise NotFoundException()
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @get("/password/forgot")
    async def forgot_form(self, request: Request) -> Response:
        return render(request, "accounts/forgot.html", {"email": ""})

    @post("/password/forgot")
    async def forgot(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        email = str((await request.form()).get("email", "")).strip()[:254]
        if "@" not in email:
            return render(
                request,
                "accounts/forgot.html",
                {"email": email, "error": N_("Enter your e-mail address")},
                status_code=422,
            )
        try:
            await registration.request_reset(portal, request_portal(request), email, ip=_ip(request))
        except PortalError as exc:
            return render(
                request, "accounts/forgot.html", {"email": email, "error": exc.detail}, status_code=exc.status_code
            )
        return render(
            request,
            "accounts/message.html",
            {
                "title": N_("Check your inbox"),
                "message": N_(
                    "If this address has an account here, we sent it a link to choose a new password. "
                    "The link works once and for one hour."
                ),
            },
        )

    @get("/password/reset")
    async def reset_form(self, request: Request, token: FromQuery[str] = "") -> Response:
        return render(request, "accounts/reset.html", {"token": token, "rules": PASSWORD_RULES})

    @post("/password/reset")
    async def reset(self, request: Request) -> Response:
        portal: Portal = request.app.state.portal
        form = await request.form()
        token = str(form.get("token", ""))
        try:
            await registration.reset_password(
                portal, token, str(form.get("password", ""))[:200], str(form.get("password_confirm", ""))[:200]
            )
        except PortalError as exc:
            return render(
                request,
                "accounts/reset.html",
                {"token": token, "rules": PASSWORD_RULES, "error": exc.detail, "error_field": exc.field},
                status_code=exc.status_code,
            )
        return Redirect("/login?done=reset")
