"""REST API of the Admin Panel (ADM-1, ADM-2): portals, partners, users, balances, short domains, the audit log."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody

from core.accounts import services as accounts
from core.accounts.guards import manager_guard
from core.accounts.schemas import UserCreate, UserView
from core.actor import Actor
from core.billing import services as billing
from core.billing.schemas import BalanceAdjustment, LedgerView
from core.plugins import registries
from core.tenancy import audit, services, short_domains
from core.tenancy.schemas import (
    AuditView,
    PartnerCreate,
    PartnerUpdate,
    PartnerView,
    PortalCreate,
    PortalUpdate,
    PortalView,
    ShortDomainCreate,
    ShortDomainGrant,
    ShortDomainView,
)
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId, QueryId
from core.web.shell import client_ip


class AdminApi(Controller):
    """Every Admin Panel action, for owner and reseller users with a bearer token."""

    path = "/api/admin"
    guards = [manager_guard]
    tags = ["Admin"]

    @get("/channels", summary="Channels that the loaded plugins provide")
    async def channels(self) -> list[dict[str, str]]:
        return [{"name": c.name, "label": c.label} for c in registries().channels]

    @get("/portals")
    async def list_portals(
        self,
        actor: NamedDependency[Actor],
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        q: FromQuery[str] = "",
    ) -> Page[PortalView]:
        return await services.list_portals(actor, query=q, page=page, per_page=per_page)

    @post("/portals", status_code=201)
    async def create_portal(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[PortalCreate]
    ) -> PortalView:
        return await services.create_portal(actor, data, ip=client_ip(request))

    @get("/portals/{portal_id:int}")
    async def get_portal(self, actor: NamedDependency[Actor], portal_id: PathId) -> PortalView:
        return await services.get_portal(actor, portal_id)

    @patch("/portals/{portal_id:int}")
    async def update_portal(
        self, request: Request, actor: NamedDependency[Actor], portal_id: PathId, data: JSONBody[PortalUpdate]
    ) -> PortalView:
        return await services.update_portal(actor, portal_id, data, ip=client_ip(request))

    @get("/partners")
    async def list_partners(
        self,
        actor: NamedDependency[Actor],
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        q: FromQuery[str] = "",
        kind: FromQuery[str] = "",
        blocked: FromQuery[bool | None] = None,
        parent_id: QueryId = None,
    ) -> Page[PartnerView]:
        return await services.list_partners(
            actor, query=q, kind=kind, blocked=blocked, parent_id=parent_id, page=page, per_page=per_page
        )

    @post("/partners", status_code=201)
    async def create_partner(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[PartnerCreate]
    ) -> PartnerView:
        return await services.create_partner(actor, data, ip=client_ip(request))

    @get("/partners/{partner_id:int}")
    async def get_partner(self, actor: NamedDependency[Actor], partner_id: PathId) -> PartnerView:
        return await services.get_partner(actor, partner_id)

    @patch("/partners/{partner_id:int}")
    async def update_partner(
        self, request: Request, actor: NamedDependency[Actor], partner_id: PathId, data: JSONBody[PartnerUpdate]
    ) -> PartnerView:
        return await services.update_partner(actor, partner_id, data, ip=client_ip(request))

    @get("/partners/{partner_id:int}/users")
    async def list_users(
        self, actor: NamedDependency[Actor], partner_id: PathId, page: PageNo = 1, per_page: PerPage = DEFAULT_PER_PAGE
    ) -> Page[UserView]:
        return await accounts.list_users(actor, partner_id, page=page, per_page=per_page)

    @post("/partners/{partner_id:int}/users", status_code=201)
    async def create_user(
        self, request: Request, actor: NamedDependency[Actor], partner_id: PathId, data: JSONBody[UserCreate]
    ) -> UserView:
        return await accounts.create_user(actor, partner_id, data, ip=client_ip(request))

    @post("/partners/{partner_id:int}/balance-adjustments", status_code=201)
    async def adjust_balance(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        partner_id: PathId,
        data: JSONBody[BalanceAdjustment],
    ) -> LedgerView:
        return await billing.adjust_balance(actor, partner_id, data, ip=client_ip(request))

    @get("/partners/{partner_id:int}/ledger")
    async def ledger(
        self, actor: NamedDependency[Actor], partner_id: PathId, page: PageNo = 1, per_page: PerPage = DEFAULT_PER_PAGE
    ) -> Page[LedgerView]:
        return await billing.list_ledger(actor, partner_id, page=page, per_page=per_page)

    @get("/audit")
    async def audit_log(
        self,
        actor: NamedDependency[Actor],
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        action: FromQuery[str] = "",
        q: FromQuery[str] = "",
    ) -> Page[AuditView]:
        return await audit.list_entries(actor, action=action, query=q, page=page, per_page=per_page)

    @get("/short-domains", summary="Short domains the partner may use, with the partners it granted each to")
    async def list_short_domains(self, actor: NamedDependency[Actor]) -> list[ShortDomainView]:
        return await short_domains.list_domains(actor)

    @post("/short-domains", status_code=201, summary="Add a short domain (system owner)")
    async def create_short_domain(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[ShortDomainCreate]
    ) -> ShortDomainView:
        return await short_domains.create_domain(actor, data, ip=client_ip(request))

    @get("/short-domains/{domain_id:int}")
    async def get_short_domain(self, actor: NamedDependency[Actor], domain_id: PathId) -> ShortDomainView:
        return await short_domains.get_domain(actor, domain_id)

    @delete("/short-domains/{domain_id:int}", status_code=204, summary="Remove a short domain (system owner)")
    async def delete_short_domain(self, request: Request, actor: NamedDependency[Actor], domain_id: PathId) -> None:
        await short_domains.delete_domain(actor, domain_id, ip=client_ip(request))

    @post("/short-domains/{domain_id:int}/grants", status_code=201, summary="Grant a short domain to a partner")
    async def grant_short_domain(
        self, request: Request, actor: NamedDependency[Actor], domain_id: PathId, data: JSONBody[ShortDomainGrant]
    ) -> ShortDomainView:
        return await short_domains.grant(actor, domain_id, data.partner_id, ip=client_ip(request))

    @delete("/short-domains/{domain_id:int}/grants/{partner_id:int}", status_code=204, summary="Revoke a grant")
    async def revoke_short_domain(
        self, request: Request, actor: NamedDependency[Actor], domain_id: PathId, partner_id: PathId
    ) -> None:
        await short_domains.revoke(actor, domain_id, partner_id, ip=client_ip(request))
