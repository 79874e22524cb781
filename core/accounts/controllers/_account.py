"""Account settings: My account (ACC-4) and Security (password, two-factor key)."""

from __future__ import annotations

from zoneinfo import available_timezones

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from core.accounts import services, sessions, twofactor
from core.accounts.controllers._common import safe_next, start_session
from core.accounts.guards import request_portal
from core.accounts.passwords import PASSWORD_RULES
from core.accounts.schemas import ProfileUpdate
from core.actor import Actor
from core.errors import PortalError
from core.portal import Portal
from core.tenancy import audit
from core.tenancy.scope import require_admin
from core.web.forms import parse_form
from core.web.pagination import PageNo
from core.web.shell import page
from core.web.templating import DATE_FORMATS, page_language


class AccountPages(Controller):
    path = "/account"
    include_in_schema = False

    async def _account(self, request: Request, actor: Actor, *, error: str = "", status_code: int = 200) -> Response:
        site = request_portal(request)
        return await page(
            request,
            actor,
            "accounts/account.html",
            {
                "date_formats": list(DATE_FORMATS),
                "timezones": sorted(available_timezones()),
                "error": error,
                "fields": site.registration_fields,
                "custom": await services.custom_fields(actor),
                "low_balance_alert": await services.low_balance_alert(actor),
                "languages": site.languages,
            },
            status_code=status_code,
        )

    @get("/")
    async def account(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._account(request, actor)

    @post("/")
    async def save_account(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            form = await request.form()
            custom = {k.removeprefix("custom."): str(v) for k, v in form.items() if k.startswith("custom.")}
            await services.update_profile(
                actor, await parse_form(request, ProfileUpdate), custom, request_portal(request)
            )
        except PortalError as exc:
            return await self._account(request, actor, error=exc.detail, status_code=exc.status_code)
        return Redirect("/account?saved=1")

    @get("/activity")
    async def activity(
        self, request: Request, actor: NamedDependency[Actor], q: FromQuery[str] = "", page_no: PageNo = 1
    ) -> Response:
        """The company's audit log (X-5) for its admins; partners read theirs and their subtree's in the Admin Panel."""
        require_admin(actor, "see the activity log")
        result = await audit.list_entries(actor, query=q, page=page_no, language=page_language(request, actor))
        return await page(request, actor, "accounts/activity.html", {"result": result, "q": q})

    @post("/theme")
    async def toggle_theme(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        await services.set_theme(actor, "light" if actor.theme == "dark" else "dark")
        return Redirect(safe_next((await request.form()).get("next")))

    async def _security(self, request: Request, actor: Actor, *, status_code: int = 200, **context: object) -> Response:
        return await page(
            request,
            actor,
            "accounts/security.html",
            {
                "rules": PASSWORD_RULES,
                "has_2fa": not await twofactor.needs_enrolment(actor.user_id),
                **context,
            },
            status_code=status_code,
        )

    @get("/security")
    async def security_page(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._security(request, actor)

    @post("/password")
    async def change_password(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            await services.change_password(
                actor,
                str(form.get("current", ""))[:200],
                str(form.get("password", ""))[:200],
                str(form.get("password_confirm", ""))[:200],
            )
        except PortalError as exc:
            return await self._security(request, actor, password_error=exc.detail, status_code=exc.status_code)
        portal: Portal = request.app.state.portal
        # Every other session ends; this browser gets a new one so the user stays signed in here.
        await sessions.destroy_all(portal.redis, actor.user_id)
        return await start_session(request, actor, "/account/security?saved=password")

    @post("/2fa")
    async def regenerate_secret(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            secret = await services.regenerate_totp(
                actor, str(form.get("current", ""))[:200], str(form.get("code", ""))[:12]
            )
        except PortalError as exc:
            return await self._security(request, actor, totp_error=exc.detail, status_code=exc.status_code)
        uri = twofactor.provisioning_uri(secret, actor.email, request_portal(request).brand_name)
        return await self._security(request, actor, new_secret=secret, qr=twofactor.qr_svg(uri))
