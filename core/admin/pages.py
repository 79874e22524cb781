"""Admin Panel pages (ADM-1): portals, the partner tree, users, balances and the audit log."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect
from msgspec import UNSET

from core.accounts import services as accounts
from core.accounts.guards import manager_guard
from core.accounts.schemas import UserCreate
from core.actor import Actor
from core.billing import purchase
from core.billing import services as billing
from core.billing.schemas import BalanceAdjustment
from core.errors import PortalError
from core.plugins import registries
from core.senders import services as senders
from core.senders.schemas import SenderCreate, SenderUpdate
from core.tenancy import audit, services, short_domains
from core.tenancy import requests as request_chain
from core.tenancy.schemas import (
    LANGUAGES,
    PartnerCreate,
    PartnerUpdate,
    PortalCreate,
    PortalUpdate,
    ShortDomainCreate,
    ShortDomainGrant,
    registration_fields_from_lines,
)
from core.tenancy.scope import is_own
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, PageNo, page_from
from core.web.params import PathId
from core.web.shell import client_ip, page
from core.web.templating import page_language
from core.web.themes import themes_for


def _form_values(form: Any) -> dict[str, Any]:
    """What the user typed, to fill the form again after an error."""
    return {key: form.getall(key) if len(form.getall(key)) > 1 else form.get(key) for key in form}


async def _field_lines(request: Request) -> dict[str, Any]:
    """The portal form's custom registration fields: one per line, a trailing '*' marks a required one."""
    return {
        "registration_fields": registration_fields_from_lines(
            str((await request.form()).get("registration_fields", ""))
        )
    }


class AdminPages(Controller):
    path = "/admin"
    guards = [manager_guard]
    include_in_schema = False

    @get("/")
    async def overview(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        partners = await services.list_partners(actor, per_page=1)
        resellers = await services.list_partners(actor, kind="reseller", per_page=1)
        end_users = await services.list_partners(actor, kind="end_user", per_page=1)
        portals = await services.list_portals(actor, per_page=1)
        recent = await audit.list_entries(actor, per_page=8, language=page_language(request, actor))
        waiting = await request_chain.list_inbox(actor, status="open", held_only=True, per_page=1)
        return await page(
            request,
            actor,
            "admin/overview.html",
            {
                "counts": {
                    "partners": partners.total - 1,
                    "resellers": resellers.total,
                    "end_users": end_users.total,
                    "portals": portals.total,
                },
                "recent": recent.items,
                "waiting_requests": waiting.total,
            },
        )

    # Portals --------------------------------------------------------------------------------------
    @get("/portals")
    async def portals(
        self, request: Request, actor: NamedDependency[Actor], q: FromQuery[str] = "", page_no: PageNo = 1
    ) -> Response:
        result = await services.list_portals(actor, query=q, page=page_no)
        return await page(request, actor, "admin/portals.html", {"result": result, "q": q})

    async def _portal_form(
        self,
        request: Request,
        actor: Actor,
        *,
        portal: Any = None,
        values: Any = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "admin/portal_form.html",
            {
                "portal": portal,
                "values": values,
                "error": error,
                "error_field": field,
                "themes": themes_for(
                    any_theme=actor.partner_kind == "owner", portal_slug=portal.slug if portal else ""
                ),
                "languages": LANGUAGES,
                "owners": await services.partner_names(actor),
            },
            status_code=status_code,
        )

    @get("/portals/new")
    async def new_portal(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._portal_form(request, actor)

    @post("/portals")
    async def create_portal(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            created = await services.create_portal(
                actor, await parse_form(request, PortalCreate, **await _field_lines(request)), ip=client_ip(request)
            )
        except PortalError as exc:
            return await self._portal_form(
                request,
                actor,
                values=_form_values(await request.form()),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/portals/{created.id}?saved=1")

    @get("/portals/{portal_id:int}")
    async def edit_portal(self, request: Request, actor: NamedDependency[Actor], portal_id: PathId) -> Response:
        return await self._portal_form(request, actor, portal=await services.get_portal(actor, portal_id))

    @post("/portals/{portal_id:int}")
    async def update_portal(self, request: Request, actor: NamedDependency[Actor], portal_id: PathId) -> Response:
        current = await services.get_portal(actor, portal_id)
        try:
            await services.update_portal(
                actor,
                portal_id,
                await parse_form(request, PortalUpdate, **await _field_lines(request)),
                ip=client_ip(request),
            )
        except PortalError as exc:
            return await self._portal_form(
                request,
                actor,
                portal=current,
                values=_form_values(await request.form()),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/portals/{portal_id}?saved=1")

    # Partners -------------------------------------------------------------------------------------
    @get("/partners")
    async def partners(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        kind: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page_no: PageNo = 1,
    ) -> Response:
        blocked = {"blocked": True, "active": False}.get(status)
        result = await services.list_partners(actor, query=q, kind=kind, blocked=blocked, page=page_no)
        return await page(
            request,
            actor,
            "admin/partners.html",
            {
                "result": result,
                "q": q,
                "kind": kind,
                "status": status,
                "root_depth": actor.partner_path.count("/") - 2,
            },
        )

    async def _partner_form(
        self,
        request: Request,
        actor: Actor,
        *,
        values: Any = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        parents = await services.list_partners(actor, kind="reseller", per_page=500)
        own = await services.get_partner(actor, actor.partner_id)
        portals = await services.list_portals(actor, per_page=500)
        return await page(
            request,
            actor,
            "admin/partner_form.html",
            {
                "values": values or {"parent_id": request.query_params.get("parent_id", "")},
                "error": error,
                "error_field": field,
                "parents": [own, *parents.items],
                "portals": portals.items,
                "channels": list(registries().channels),
            },
            status_code=status_code,
        )

    @get("/partners/new")
    async def new_partner(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._partner_form(request, actor)

    @post("/partners")
    async def create_partner(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        try:
            created = await services.create_partner(
                actor, await parse_form(request, PartnerCreate), ip=client_ip(request)
            )
        except PortalError as exc:
            return await self._partner_form(
                request,
                actor,
                values=_form_values(await request.form()),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/partners/{created.id}?saved=1")

    async def _partner_page(
        self,
        request: Request,
        actor: Actor,
        partner_id: int,
        *,
        error: str = "",
        error_form: str = "",
        values: Any = None,
        status_code: int = 200,
    ) -> Response:
        partner = await services.get_partner(actor, partner_id)
        ledger = None
        if actor.is_admin:
            ledger = await billing.list_ledger(actor, partner_id, per_page=20)
        portals = await services.list_portals(actor, per_page=500)
        return await page(
            request,
            actor,
            "admin/partner.html",
            {
                "partner": partner,
                "users": (await accounts.list_users(actor, partner_id, per_page=200)).items,
                "ledger": ledger,
                "channels": list(registries().channels),
                "portals": portals.items,
                "children": (await services.list_partners(actor, parent_id=partner_id, per_page=200)).items,
                "senders": await senders.list_senders(actor, partner_id),
                "held_packs": await purchase.partner_packs(actor, partner_id),
                "is_own": is_own(actor, partner_id),
                "error": error,
                "error_form": error_form,
                "values": values or {},
            },
            status_code=status_code,
        )

    @get("/partners/{partner_id:int}")
    async def partner(self, request: Request, actor: NamedDependency[Actor], partner_id: PathId) -> Response:
        return await self._partner_page(request, actor, partner_id)

    async def _partner_action(
        self, request: Request, actor: Actor, partner_id: int, form_name: str, action: Any
    ) -> Response:
        try:
            await action()
        except PortalError as exc:
            return await self._partner_page(
                request,
                actor,
                partner_id,
                error=exc.detail,
                error_form=form_name,
                values=_form_values(await request.form()),
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/partners/{partner_id}?saved={form_name}")

    @post("/partners/{partner_id:int}")
    async def update_partner(self, request: Request, actor: NamedDependency[Actor], partner_id: PathId) -> Response:
        async def run() -> None:
            # The edit form has no "blocked" box; blocking has its own button.
            data = msgspec.structs.replace(await parse_form(request, PartnerUpdate), blocked=UNSET)
            await services.update_partner(actor, partner_id, data, ip=client_ip(request))

        return await self._partner_action(request, actor, partner_id, "settings", run)

    @post("/partners/{partner_id:int}/block")
    async def block_partner(self, request: Request, actor: NamedDependency[Actor], partner_id: PathId) -> Response:
        blocked = (await request.form()).get("blocked") == "1"

        async def run() -> None:
            await services.update_partner(actor, partner_id, PartnerUpdate(blocked=blocked), ip=client_ip(request))

        return await self._partner_action(request, actor, partner_id, "block", run)

    @post("/partners/{partner_id:int}/users")
    async def create_user(self, request: Request, actor: NamedDependency[Actor], partner_id: PathId) -> Response:
        async def run() -> None:
            await accounts.create_user(actor, partner_id, await parse_form(request, UserCreate), ip=client_ip(request))

        return await self._partner_action(request, actor, partner_id, "user", run)

    @post("/partners/{partner_id:int}/balance")
    async def adjust_balance(self, request: Request, actor: NamedDependency[Actor], partner_id: PathId) -> Response:
        async def run() -> None:
            await billing.adjust_balance(
                actor, partner_id, await parse_form(request, BalanceAdjustment), ip=client_ip(request)
            )

        return await self._partner_action(request, actor, partner_id, "balance", run)

    # Sender IDs -------------------------------------------------------------------------------------
    @post("/partners/{partner_id:int}/senders")
    async def add_sender(self, request: Request, actor: NamedDependency[Actor], partner_id: PathId) -> Response:
        async def run() -> None:
            await senders.create_sender(
                actor, partner_id, await parse_form(request, SenderCreate), ip=client_ip(request)
            )

        return await self._partner_action(request, actor, partner_id, "senders", run)

    @post("/senders/{sender_id:int}/status")
    async def sender_status(self, request: Request, actor: NamedDependency[Actor], sender_id: PathId) -> Response:
        view = await senders.update_sender(
            actor, sender_id, await parse_form(request, SenderUpdate), ip=client_ip(request)
        )
        return Redirect(f"/admin/partners/{view.partner_id}?saved=senders")

    @post("/senders/{sender_id:int}/validity")
    async def sender_validity(self, request: Request, actor: NamedDependency[Actor], sender_id: PathId) -> Response:
        """The last day a sender ID may be used (empty: no end)."""
        partner_id = (await senders.get_sender(actor, sender_id)).partner_id

        async def run() -> None:
            await senders.update_sender(
                actor, sender_id, await parse_form(request, SenderUpdate), ip=client_ip(request)
            )

        return await self._partner_action(request, actor, partner_id, "senders", run)

    @post("/senders/{sender_id:int}/delete")
    async def remove_sender(self, request: Request, actor: NamedDependency[Actor], sender_id: PathId) -> Response:
        partner_id = (await senders.get_sender(actor, sender_id)).partner_id
        await senders.delete_sender(actor, sender_id, ip=client_ip(request))
        return Redirect(f"/admin/partners/{partner_id}?saved=senders")

    # Short domains ---------------------------------------------------------------------------------
    async def _short_domains_page(
        self,
        request: Request,
        actor: Actor,
        page_no: int = 1,
        *,
        error: str = "",
        error_form: str = "",
        status_code: int = 200,
    ) -> Response:
        return await page(
            request,
            actor,
            "admin/short_domains.html",
            {
                "domains": await short_domains.domains_page(actor, page=page_no, per_page=DEFAULT_PER_PAGE),
                "partners": await short_domains.grantable_partners(actor),
                "error": error,
                "error_form": error_form,
                "saved": request.query_params.get("saved", ""),
            },
            status_code=status_code,
        )

    @get("/short-domains")
    async def short_domains(self, request: Request, actor: NamedDependency[Actor], page_no: PageNo = 1) -> Response:
        return await self._short_domains_page(request, actor, page_no)

    async def _short_domain_action(self, request: Request, actor: Actor, form_name: str, action: Any) -> Response:
        # The forms of a row send the page they were on, so the answer shows that page again.
        page_no = page_from(await request.form())
        try:
            await action()
        except PortalError as exc:
            return await self._short_domains_page(
                request, actor, page_no, error=exc.detail, error_form=form_name, status_code=exc.status_code
            )
        return Redirect(f"/admin/short-domains?saved={form_name}&page_no={page_no}")

    @post("/short-domains")
    async def add_short_domain(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        async def run() -> None:
            data = await parse_form(request, ShortDomainCreate)
            await short_domains.create_domain(actor, data, ip=client_ip(request))

        return await self._short_domain_action(request, actor, "add", run)

    @post("/short-domains/{domain_id:int}/delete")
    async def remove_short_domain(self, request: Request, actor: NamedDependency[Actor], domain_id: PathId) -> Response:
        async def run() -> None:
            await short_domains.delete_domain(actor, domain_id, ip=client_ip(request))

        return await self._short_domain_action(request, actor, f"domain-{domain_id}", run)

    @post("/short-domains/{domain_id:int}/grants")
    async def grant_short_domain(self, request: Request, actor: NamedDependency[Actor], domain_id: PathId) -> Response:
        async def run() -> None:
            data = await parse_form(request, ShortDomainGrant)
            await short_domains.grant(actor, domain_id, data.partner_id, ip=client_ip(request))

        return await self._short_domain_action(request, actor, f"domain-{domain_id}", run)

    @post("/short-domains/{domain_id:int}/grants/{partner_id:int}/revoke")
    async def revoke_short_domain(
        self, request: Request, actor: NamedDependency[Actor], domain_id: PathId, partner_id: PathId
    ) -> Response:
        async def run() -> None:
            await short_domains.revoke(actor, domain_id, partner_id, ip=client_ip(request))

        return await self._short_domain_action(request, actor, f"domain-{domain_id}", run)

    # Audit log ------------------------------------------------------------------------------------
    @get("/audit")
    async def audit_log(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        action: FromQuery[str] = "",
        q: FromQuery[str] = "",
        page_no: PageNo = 1,
    ) -> Response:
        result = await audit.list_entries(
            actor, action=action, query=q, page=page_no, language=page_language(request, actor)
        )
        return await page(
            request,
            actor,
            "admin/audit.html",
            {
                "result": result,
                "action": action,
                "q": q,
                "actions": await audit.actions(actor),
            },
        )
