"""Pack pages and REST API: offers in the Admin Panel (BIL-3), the Purchase screen and buying a pack (BIL-8)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody
from litestar.response import Redirect

from core.accounts.guards import manager_guard
from core.actor import Actor
from core.billing import packs, purchase
from core.billing.pack_schemas import (
    HELD_STATUS_LABELS,
    SORT_LABELS,
    BuyIn,
    CataloguePlan,
    CatalogueSort,
    HeldPackView,
    OwnPlan,
    PackCreate,
    PackUpdate,
    PackView,
    PricingRequestIn,
    PricingRequestSent,
)
from core.billing.rate_schemas import MODE_LABELS, BillingMode
from core.errors import InvalidInput, PortalError
from core.plugins import registries
from core.web.forms import parse_form
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip, page

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WINDOW = ("available_from", "available_until")
_SORTS = tuple(SORT_LABELS)
CATALOGUE_PER_PAGE = 24


async def _window(request: Request) -> dict[str, Any]:
    """The form's purchase window (YYYY-MM-DD, UTC midnight) as datetimes; empty = open-ended."""
    form = await request.form()
    out: dict[str, Any] = {}
    for name in _WINDOW:
        text = str(form.get(name, "")).strip()
        if not text:
            out[name] = None
        elif _DATE.match(text):
            out[name] = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            raise InvalidInput(f"{name}: a date like 2027-01-31", field=name)
    return out


def _channel_labels() -> dict[str, str]:
    return {c.name: c.label for c in registries().channels}


def _form_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {key: form.get(key) for key in form}
    values["networks"] = form.getall("networks") if "networks" in form else []
    values["enabled"] = "enabled" in form
    return values


def _offer_values(offer: PackView) -> dict[str, Any]:
    return {
        "name": offer.name,
        "channel": offer.channel,
        "country_iso": offer.country_iso,
        "networks": offer.networks,
        "price": str(offer.price),
        "messages": offer.messages,
        "mode": offer.mode,
        "validity_days": offer.validity_days or "",
        "available_from": offer.available_from.strftime("%Y-%m-%d") if offer.available_from else "",
        "available_until": offer.available_until.strftime("%Y-%m-%d") if offer.available_until else "",
        "enabled": offer.enabled,
    }


class PackPages(Controller):
    """Admin Panel: the packs the actor's partner (and its descendants) offer."""

    path = "/admin/packs"
    guards = [manager_guard]
    include_in_schema = False

    @get("/")
    async def offers(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        country: FromQuery[str] = "",
        page_no: PageNo = 1,
    ) -> Response:
        result = await packs.list_offers(actor, query=q, channel=channel, country=country, page=page_no)
        return await page(
            request,
            actor,
            "billing/packs.html",
            {
                "result": result,
                "q": q,
                "channel": channel,
                "country": country,
                "channels": list(registries().channels),
                "channel_labels": _channel_labels(),
                "countries": await packs.country_names(),
                "modes": MODE_LABELS,
                "query": urlencode({"q": q, "channel": channel, "country": country}),
            },
        )

    async def _form(
        self,
        request: Request,
        actor: Actor,
        *,
        offer: PackView | None = None,
        values: dict[str, Any] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Response:
        shown = values if values is not None else (_offer_values(offer) if offer else {"enabled": True})
        return await page(
            request,
            actor,
            "billing/pack_form.html",
            {
                "offer": offer,
                "values": shown,
                "error": error,
                "error_field": field,
                "channels": list(registries().channels),
                "countries": await packs.country_names(),
                "networks": await packs.network_names(str(shown["country_iso"])) if shown.get("country_iso") else {},
                "modes": MODE_LABELS,
                "saved": request.query_params.get("saved") == "1",
            },
            status_code=status_code,
        )

    @get("/new")
    async def new_offer(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await self._form(request, actor)

    @get("/networks")
    async def networks(
        self, request: Request, actor: NamedDependency[Actor], country_iso: FromQuery[str] = ""
    ) -> Response:
        """The network checkboxes of a country, swapped into the form when the country changes (htmx)."""
        return await page(
            request,
            actor,
            "billing/_pack_networks.html",
            {"networks": await packs.network_names(country_iso.upper()) if country_iso else {}, "chosen": []},
        )

    @post("/")
    async def create_offer(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        try:
            data = await parse_form(request, PackCreate, **await _window(request))
            created = await packs.create_offer(actor, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                values=_form_values(form),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/packs/{created.id}?saved=1")

    @get("/{offer_id:int}")
    async def offer(self, request: Request, actor: NamedDependency[Actor], offer_id: PathId) -> Response:
        return await self._form(request, actor, offer=await packs.get_offer(actor, offer_id))

    @post("/{offer_id:int}")
    async def update_offer(self, request: Request, actor: NamedDependency[Actor], offer_id: PathId) -> Response:
        current = await packs.get_offer(actor, offer_id)  # a foreign offer is a 404 before anything else
        form = await request.form()
        try:
            data = await parse_form(request, PackUpdate, **await _window(request))
            await packs.update_offer(actor, offer_id, data, ip=client_ip(request))
        except PortalError as exc:
            return await self._form(
                request,
                actor,
                offer=current,
                values=_form_values(form),
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return Redirect(f"/admin/packs/{offer_id}?saved=1")

    @post("/held/{held_id:int}/remove")
    async def remove_held(self, request: Request, actor: NamedDependency[Actor], held_id: PathId) -> Response:
        """End a client's pack from its partner page; back there with the outcome."""
        held = await purchase.remove_pack(actor, held_id, ip=client_ip(request))
        return Redirect(f"/admin/partners/{held.partner_id}?saved=packs")

    @post("/{offer_id:int}/enabled")
    async def toggle(self, request: Request, actor: NamedDependency[Actor], offer_id: PathId) -> Response:
        enabled = (await request.form()).get("enabled") == "1"
        await packs.update_offer(actor, offer_id, PackUpdate(enabled=enabled), ip=client_ip(request))
        return Redirect("/admin/packs")


class PurchasePages(Controller):
    """The Purchase screen: own packs and plans, the parent's catalogue, and buying a pack."""

    path = "/purchase"
    include_in_schema = False

    @get("/")
    async def purchase_page(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        params = request.query_params
        values = {
            key: str(params.get(key) or "").strip()
            for key in ("tab", "q", "channel", "country", "mode", "sort", "view")
        }
        tab = "plans" if values["tab"] == "plans" else "packs"
        sort: CatalogueSort = values["sort"] if values["sort"] in _SORTS else "newest"  # type: ignore[assignment]
        mode = values["mode"] if values["mode"] in MODE_LABELS else ""
        page_no = int(params.get("page_no") or 1) if str(params.get("page_no") or "1").isdigit() else 1
        offers = await purchase.catalogue(
            actor,
            query=values["q"],
            channel=values["channel"],
            country=values["country"],
            mode=mode,
            sort=sort,
            page=max(page_no, 1),
            per_page=CATALOGUE_PER_PAGE,
        )
        bought, selected = params.get("bought"), params.get("selected")
        return await page(
            request,
            actor,
            "billing/purchase.html",
            {
                "tab": tab,
                "values": values,
                "view": "list" if values["view"] == "list" else "tile",
                "query": urlencode({k: v for k, v in values.items() if v and k not in ("tab", "view")}),
                "offers": offers,
                "plans": await purchase.catalogue_plans(actor, channel=values["channel"], query=values["q"]),
                "held": (await purchase.list_held(actor, per_page=12)).items,
                "own_plans": await purchase.own_plans(actor),
                "countries": await purchase.catalogue_countries(actor),
                "channels": list(registries().channels),
                "channel_labels": _channel_labels(),
                "modes": MODE_LABELS,
                "sorts": SORT_LABELS,
                "statuses": HELD_STATUS_LABELS,
                "bought": int(bought) if bought and bought.isdigit() else None,
                "selected": int(selected) if selected and selected.isdigit() else None,
                "select_error": str(params.get("select_error") or ""),
                "asked": params.get("asked") == "1",
                "ask_error": str(params.get("ask_error") or ""),
            },
        )

    @post("/request")
    async def ask(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        """The Purchase page's "ask your provider" form."""
        try:
            await purchase.ask_for_pricing(actor, await parse_form(request, PricingRequestIn))
        except PortalError as exc:
            return Redirect(f"/purchase?{urlencode({'ask_error': exc.detail})}")
        return Redirect("/purchase?asked=1")

    async def _confirm(
        self, request: Request, actor: Actor, offer_id: int, *, error: str = "", status_code: int = 200
    ) -> Response:
        summary = await purchase.order(actor, offer_id)
        countries = await packs.country_names({summary.offer.country_iso})
        return await page(
            request,
            actor,
            "billing/purchase_confirm.html",
            {
                "order": summary,
                "country_name": countries.get(summary.offer.country_iso, summary.offer.country_iso),
                "network_names": await packs.network_names(summary.offer.country_iso),
                "channel_labels": _channel_labels(),
                "modes": MODE_LABELS,
                "token": secrets.token_urlsafe(16),
                "error": error,
            },
            status_code=status_code,
        )

    @post("/plans/{plan_id:int}/select")
    async def select_plan(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> Response:
        """The Rate plans tab's Select button (the page asks for a confirmation first)."""
        try:
            chosen = await purchase.select_plan(actor, plan_id, ip=client_ip(request))
        except PortalError as exc:
            if exc.status_code == 404:
                raise
            return Redirect(f"/purchase?{urlencode({'tab': 'plans', 'select_error': exc.detail})}")
        return Redirect(f"/purchase?{urlencode({'tab': 'plans', 'selected': chosen.plan_id})}")

    @get("/packs/{offer_id:int}")
    async def confirm(self, request: Request, actor: NamedDependency[Actor], offer_id: PathId) -> Response:
        return await self._confirm(request, actor, offer_id)

    @post("/packs/{offer_id:int}")
    async def buy(self, request: Request, actor: NamedDependency[Actor], offer_id: PathId) -> Response:
        try:
            data = await parse_form(request, BuyIn)
            held = await purchase.buy_pack(actor, offer_id, token=data.token, ip=client_ip(request))
        except PortalError as exc:
            if exc.status_code == 404:
                raise
            return await self._confirm(request, actor, offer_id, error=exc.detail, status_code=exc.status_code)
        return Redirect(f"/purchase?bought={held.id}")


class PacksApi(Controller):
    """Your company's packs and its provider's catalogue; buying needs an admin."""

    path = "/api/packs"
    tags = ["Packs"]

    @get("/", summary="The packs your company holds, newest first, with the messages left of each")
    async def held(
        self, actor: NamedDependency[Actor], page: PageNo = 1, per_page: PerPage = DEFAULT_PER_PAGE
    ) -> Page[HeldPackView]:
        return await purchase.list_held(actor, page=page, per_page=per_page)

    @get("/catalogue", summary="The packs your provider offers now, in your currency")
    async def catalogue(
        self,
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        country: FromQuery[str] = "",
        mode: FromQuery[BillingMode | None] = None,
        sort: FromQuery[CatalogueSort] = "newest",
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[PackView]:
        return await purchase.catalogue(
            actor, query=q, channel=channel, country=country, mode=mode or "", sort=sort, page=page, per_page=per_page
        )

    @get("/plans", summary="Your provider's rate plans you may pick yourself, and the ones you use")
    async def plans(
        self, actor: NamedDependency[Actor], channel: FromQuery[str] = "", q: FromQuery[str] = ""
    ) -> list[CataloguePlan]:
        return await purchase.catalogue_plans(actor, channel=channel, query=q)

    @post(
        "/plans/{plan_id:int}/select",
        status_code=200,
        summary="Make one of your provider's selectable rate plans your plan for its channel",
        description="It replaces the plan you had on that channel. 404 for a plan your provider does not offer for "
        "picking; 403 for operators.",
    )
    async def select_plan(self, request: Request, actor: NamedDependency[Actor], plan_id: PathId) -> OwnPlan:
        return await purchase.select_plan(actor, plan_id, ip=client_ip(request))

    @post("/requests", status_code=201, summary="Ask your provider for rate plans or packs (its Requests inbox)")
    async def ask(self, actor: NamedDependency[Actor], data: JSONBody[PricingRequestIn]) -> PricingRequestSent:
        return PricingRequestSent(request_id=await purchase.ask_for_pricing(actor, data))

    @post(
        "/{offer_id:int}/buy",
        status_code=201,
        summary="Buy a pack of the catalogue: its price is taken from your balance",
        description="Send the same token again (a retry) and you get the first purchase back instead of a second one. "
        "409 when the balance and credit limit do not cover the price or the pack is no longer offered.",
    )
    async def buy(
        self, request: Request, actor: NamedDependency[Actor], offer_id: PathId, data: JSONBody[BuyIn]
    ) -> HeldPackView:
        return await purchase.buy_pack(actor, offer_id, token=data.token, ip=client_ip(request))


class PackOffersApi(Controller):
    """Packs the caller's partner and its descendants offer; changes need an admin."""

    path = "/api/admin"
    guards = [manager_guard]
    tags = ["Packs"]

    @get("/packs")
    async def list_offers(
        self,
        actor: NamedDependency[Actor],
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        country: FromQuery[str] = "",
    ) -> Page[PackView]:
        return await packs.list_offers(actor, query=q, channel=channel, country=country, page=page, per_page=per_page)

    @post("/packs", status_code=201, summary="Offer a pack to the partners right below the caller's partner")
    async def create_offer(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[PackCreate]
    ) -> PackView:
        return await packs.create_offer(actor, data, ip=client_ip(request))

    @get("/partners/{partner_id:int}/packs", summary="The packs a partner holds, newest first")
    async def partner_packs(self, actor: NamedDependency[Actor], partner_id: PathId) -> list[HeldPackView]:
        return await purchase.partner_packs(actor, partner_id)

    @post(
        "/held-packs/{held_id:int}/remove",
        status_code=200,
        summary="End a client's pack now and refund the price's share of its unused messages",
        description="For a partner above the holder (a company cannot end its own packs); 409 when it has ended.",
    )
    async def remove_held(self, request: Request, actor: NamedDependency[Actor], held_id: PathId) -> HeldPackView:
        return await purchase.remove_pack(actor, held_id, ip=client_ip(request))

    @get("/packs/{offer_id:int}")
    async def get_offer(self, actor: NamedDependency[Actor], offer_id: PathId) -> PackView:
        return await packs.get_offer(actor, offer_id)

    @patch("/packs/{offer_id:int}", summary="Change an offer or turn it off (enabled: false); bought packs keep theirs")
    async def update_offer(
        self, request: Request, actor: NamedDependency[Actor], offer_id: PathId, data: JSONBody[PackUpdate]
    ) -> PackView:
        return await packs.update_offer(actor, offer_id, data, ip=client_ip(request))


ROUTES: list[Any] = [PackPages, PurchasePages, PacksApi, PackOffersApi]
