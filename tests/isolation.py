"""The tenant-isolation harness (TEN-4): every route with an object id must answer 404 for another tenant's ids.

Later issues extend it: add the id parameter names of their routes to ``ID_PROVIDERS`` and a valid body for
every write route to ``SAMPLE_BODIES``. ``routes_with_ids`` refuses a route it cannot cover, so a new route
without an entry fails the suite instead of slipping through untested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.factories import Tenant

# Path parameter name → the id of the other tenant's object of that kind.
ID_PROVIDERS: dict[str, Callable[[Tenant], int | str]] = {
    "partner_id": lambda t: t.end_user_id,
    "portal_id": lambda t: t.portal_id,
    "key_id": lambda t: t.api_key_id,
    "sender_id": lambda t: t.sender_id,
    "contact_id": lambda t: t.contact_id,
    "group_id": lambda t: t.group_id,
    "field_id": lambda t: t.field_id,
    "import_id": lambda t: t.import_id,
    "plan_id": lambda t: t.rate_plan_id,
    "rate_id": lambda t: t.rate_id,
    # The numbering book is the owner's alone: no reseller or end user reaches its rows.
    "country_id": lambda t: t.country_id,
    "network_id": lambda t: t.network_id,
    # make_world makes no campaign or EDR: tests that need them set t.campaign_id / t.edr_id
    # (tests/core/campaigns/test_pages.py); otherwise an id that exists nowhere must still be a 404.
    "campaign_id": lambda t: getattr(t, "campaign_id", 2_000_000_000),
    "edr_id": lambda t: getattr(t, "edr_id", 2_000_000_000),
    # Balance changes: tests/core/billing/test_finance.py sets t.ledger_entry_id to a real one of each tenant.
    "entry_id": lambda t: getattr(t, "ledger_entry_id", 2_000_000_000),
    # Nor a campaign template: tests/core/message_templates sets t.template_id.
    "template_id": lambda t: getattr(t, "template_id", 2_000_000_000),
    # A WhatsApp template submitted for approval: tests/plugins/whatsapp sets t.vendor_template_id.
    "vendor_template_id": lambda t: getattr(t, "vendor_template_id", 2_000_000_000),
    # Nor a reply template: tests/core/public_api/test_auto_replies.py sets t.reply_id.
    "reply_id": lambda t: getattr(t, "reply_id", 2_000_000_000),
    # Vendor connections are the owner's alone; resellers and end users get a 404 for any id.
    "connection_id": lambda t: getattr(t, "connection_id", 2_000_000_000),
    # An API transaction (GET /api/send_sms/{transaction_id}): tests/core/public_api/test_cascade_api.py sets one.
    "transaction_id": lambda t: getattr(t, "transaction_id", "00000000-0000-4000-8000-000000000000"),
    "action": lambda t: "cancel",  # not an id: the action of POST /api/campaigns/{campaign_id}/{action}
    # make_world makes no request: tests that need one set t.request_id (tests/core/senders/test_sender_requests.py).
    "request_id": lambda t: getattr(t, "request_id", 2_000_000_000),
    # Top ups: tests/core/billing/test_payments.py sets t.payment_id to a real one of each tenant.
    "payment_id": lambda t: getattr(t, "payment_id", 2_000_000_000),
    # Payment accounts belong to the owner or a reseller: tests/core/billing/test_payments.py sets t.account_id.
    "account_id": lambda t: getattr(t, "account_id", 2_000_000_000),
    "index": lambda t: 0,  # not an id: the first document of a request
    # make_world makes no EDR export: tests/core/statistics/test_exports.py sets t.export_id to a real one.
    "export_id": lambda t: getattr(t, "export_id", 2_000_000_000),
    # make_world makes no MO route: tests that need one set t.route_id (tests/core/public_api/test_mo_callbacks.py).
    "route_id": lambda t: getattr(t, "route_id", 2_000_000_000),
    # Not an id: the channel of a vendor webhook (/hooks/{channel}/{connection_id}, no tenant's; its own tests are
    # in tests/plugins/viber/test_webhooks.py: a connection's callback touches only that connection's messages).
    "channel": lambda t: "viber",
    # Short domains are the owner's, granted down the tree: tests/plugins/shortener grants one to each tenant.
    "domain_id": lambda t: getattr(t, "short_domain_id", 2_000_000_000),
    # Pack offers belong to the owner or a reseller: tests/core/billing/test_packs.py sets t.offer_id to a real one.
    "offer_id": lambda t: getattr(t, "offer_id", 2_000_000_000),
    # A pack a partner holds: tests/core/billing/test_packs.py sets t.held_id to one bought by each tenant's client.
    "held_id": lambda t: getattr(t, "held_id", 2_000_000_000),
}

# A valid request body per write route, so that a 404 proves scoping rather than a validation error.
SAMPLE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/contacts/imports/{import_id:int}/start"): {"form": {"column.0": "phone", "new_group": "Hijacked"}},
    ("POST", "/api/imports/{import_id:int}/start"): {"json": {"mapping": {"0": "phone"}, "new_group": "Hijacked"}},
    ("PATCH", "/api/admin/portals/{portal_id:int}"): {"json": {"brand_name": "Hijacked"}},
    # Rerating takes no body: the form only confirms (the owner's alone; others get the 404 of a missing page).
    ("POST", "/admin/rerating/{campaign_id:int}"): {"form": {"confirm": "1"}},
    ("POST", "/api/admin/campaigns/{campaign_id:int}/rerating"): {"json": {}},
    ("PATCH", "/api/admin/partners/{partner_id:int}"): {"json": {"name": "Hijacked", "blocked": True}},
    ("POST", "/api/admin/partners/{partner_id:int}/users"): {
        "json": {"email": "intruder@x.test", "first_name": "I", "last_name": "N", "password": "0123456789ab"}
    },
    ("PATCH", "/api/admin/payment-accounts/{account_id:int}"): {"json": {"enabled": False}},
    ("POST", "/api/admin/partners/{partner_id:int}/balance-adjustments"): {
        "json": {"amount": "10", "reason": "stolen"}
    },
    ("POST", "/admin/portals/{portal_id:int}"): {
        "form": {
            "brand_name": "Hijacked",
            "hosts": "hijack.test",
            "theme": "default",
            "default_language": "en",
            "languages": "en",
        }
    },
    ("POST", "/admin/partners/{partner_id:int}"): {"form": {"name": "Hijacked", "credit_limit": "0"}},
    ("POST", "/admin/partners/{partner_id:int}/block"): {"form": {"blocked": "1"}},
    ("POST", "/admin/partners/{partner_id:int}/users"): {
        "form": {
            "email": "intruder@x.test",
            "first_name": "I",
            "last_name": "N",
            "password": "0123456789ab",
            "role": "admin",
        }
    },
    ("POST", "/admin/partners/{partner_id:int}/balance"): {"form": {"amount": "10", "reason": "stolen"}},
    ("POST", "/api-keys/{key_id:int}/refresh"): {"form": {}},
    ("POST", "/api-keys/{key_id:int}/delete"): {"form": {}},
    ("POST", "/api/keys/{key_id:int}/refresh"): {"json": {}},
    ("PUT", "/api/keys/{key_id:int}/callback"): {"json": {"callback_url": "https://hijack.test/cb"}},
    ("POST", "/api/keys/{key_id:int}/callback-secret"): {"json": {}},
    ("POST", "/api-keys/{key_id:int}/callbacks/url"): {"form": {"callback_url": "https://hijack.test/cb"}},
    ("POST", "/api-keys/{key_id:int}/callbacks/secret"): {"form": {}},
    ("PUT", "/api/callback-settings/routes/{route_id:int}"): {"json": {"url": "https://hijack.test/mo"}},
    ("POST", "/callback-settings/routes/{route_id:int}"): {"form": {"url": "https://hijack.test/mo"}},
    ("POST", "/callback-settings/routes/{route_id:int}/delete"): {"form": {}},
    ("POST", "/api/admin/partners/{partner_id:int}/senders"): {"json": {"channel": "sms", "name": "Hijack"}},
    ("PATCH", "/api/admin/senders/{sender_id:int}"): {"json": {"status": "disabled"}},
    ("PUT", "/api/admin/vendor-connections/{connection_id:int}"): {"json": {"channel": "sms", "name": "Hijacked"}},
    ("POST", "/admin/vendors/{connection_id:int}"): {"form": {"name": "Hijacked"}},
    ("POST", "/admin/vendors/{connection_id:int}/delete"): {"form": {}},
    ("POST", "/hooks/{channel:str}/{connection_id:int}"): {"json": {"message_id": 1, "status": "delivered"}},
    ("POST", "/admin/partners/{partner_id:int}/senders"): {"form": {"channel": "sms", "name": "Hijack"}},
    ("POST", "/admin/senders/{sender_id:int}/status"): {"form": {"status": "disabled"}},
    ("POST", "/admin/senders/{sender_id:int}/validity"): {"form": {"valid_until": "2030-01-01"}},
    ("POST", "/admin/senders/{sender_id:int}/delete"): {"form": {}},
    ("PATCH", "/api/contacts/{contact_id:int}"): {"json": {"first_name": "Hijacked"}},
    ("PATCH", "/api/groups/{group_id:int}"): {"json": {"name": "Hijacked"}},
    ("PATCH", "/api/contact-fields/{field_id:int}"): {"json": {"name": "Hijacked"}},
    ("POST", "/contacts/{contact_id:int}"): {"form": {"phone": "34699000111", "first_name": "Hijacked"}},
    ("POST", "/contacts/fields/{field_id:int}"): {"form": {"name": "Hijacked", "required": "on"}},
    ("POST", "/contacts/fields/{field_id:int}/delete"): {"form": {}},
    ("POST", "/contacts/groups/{group_id:int}"): {"form": {"name": "Hijacked", "description": ""}},
    ("POST", "/contacts/groups/{group_id:int}/delete"): {"form": {}},
    ("POST", "/contacts/groups/{group_id:int}/members"): {"form": {"action": "remove"}},
    ("POST", "/campaigns/{campaign_id:int}/action"): {"form": {"action": "cancel"}},
    ("POST", "/api/campaigns/{campaign_id:int}/{action:str}"): {"json": {}},
    ("PATCH", "/api/templates/{template_id:int}"): {"json": {"name": "Hijacked"}},
    ("POST", "/templates/{template_id:int}"): {"form": {"name": "Hijacked", "text": "Hijacked"}},
    ("POST", "/templates/{template_id:int}/delete"): {"form": {"force": "1"}},
    ("POST", "/templates/whatsapp/{vendor_template_id:int}/delete"): {"form": {"force": "1"}},
    ("PATCH", "/api/reply-templates/{reply_id:int}"): {"json": {"name": "Hijacked"}},
    ("POST", "/templates/replies/{reply_id:int}"): {"form": {"name": "Hijacked", "keywords": "x", "text": "Hijacked"}},
    ("POST", "/templates/replies/{reply_id:int}/delete"): {"form": {}},
    ("PATCH", "/api/admin/numbering/countries/{country_id:int}"): {"json": {"name": "Hijacked"}},
    ("PATCH", "/api/admin/numbering/networks/{network_id:int}"): {"json": {"name": "Hijacked"}},
    ("POST", "/admin/numbering/countries/{country_id:int}"): {
        "form": {"name": "Hijacked", "mcc": "214", "dial_code": "34"}
    },
    ("POST", "/admin/numbering/countries/{country_id:int}/delete"): {"form": {}},
    ("POST", "/admin/numbering/networks/{network_id:int}"): {"form": {"name": "Hijacked", "mcc": "214", "mnc": "01"}},
    ("POST", "/admin/numbering/networks/{network_id:int}/delete"): {"form": {}},
    ("PATCH", "/api/admin/rate-plans/{plan_id:int}"): {"json": {"name": "Hijacked"}},
    ("POST", "/api/admin/rate-plans/{plan_id:int}/rates"): {"json": {"country_iso": "ES", "mcc": "214", "price": "0"}},
    ("POST", "/api/admin/rate-plans/{plan_id:int}/rates/upload"): {
        "files": {"file": ("r.csv", b"country_iso,mcc,mnc,price\nES,214,,0\n")}
    },
    ("POST", "/api/admin/rate-plans/{plan_id:int}/assignments"): {"json": {"partner_id": 1}},
    ("PATCH", "/api/admin/rates/{rate_id:int}"): {"json": {"price": "0"}},
    ("POST", "/admin/rate-plans/{plan_id:int}"): {"form": {"name": "Hijacked", "mode": "submitted"}},
    ("POST", "/admin/rate-plans/{plan_id:int}/rates"): {"form": {"country_iso": "ES", "mcc": "214", "price": "0"}},
    ("POST", "/admin/rate-plans/{plan_id:int}/rates/upload"): {
        "files": {"file": ("r.csv", b"country_iso,mcc,mnc,price\nES,214,,0\n")}
    },
    ("POST", "/admin/rate-plans/{plan_id:int}/assign"): {"form": {"partner_id": "1"}},
    ("POST", "/purchase/plans/{plan_id:int}/select"): {"form": {}},
    ("POST", "/api/packs/plans/{plan_id:int}/select"): {"json": {}},
    ("POST", "/admin/rate-plans/{plan_id:int}/unassign"): {"form": {"partner_id": "1"}},
    ("POST", "/admin/rates/{rate_id:int}"): {"form": {"price": "0"}},
    ("POST", "/admin/rates/{rate_id:int}/delete"): {"form": {}},
    ("POST", "/api/admin/requests/{request_id:int}/decision"): {"json": {"action": "decline", "reason": "Hijacked"}},
    ("POST", "/admin/requests/{request_id:int}/decision"): {"form": {"action": "decline", "reason": "Hijacked"}},
    ("POST", "/api/senders/requests/{request_id:int}/cancel"): {"json": {}},
    ("POST", "/senders/requests/{request_id:int}/cancel"): {"form": {}},
    ("POST", "/api/senders/{sender_id:int}/unsubscribe"): {"json": {}},
    ("POST", "/senders/{sender_id:int}/unsubscribe"): {"form": {}},
    ("POST", "/statistics/exports/{export_id:int}/cancel"): {"form": {}},
    ("POST", "/statistics/exports/{export_id:int}/restart"): {"form": {}},
    ("POST", "/api/edrs/exports/{export_id:int}/cancel"): {"json": {}},
    ("POST", "/api/edrs/exports/{export_id:int}/restart"): {"json": {}},
    ("POST", "/api/admin/short-domains/{domain_id:int}/grants"): {"json": {"partner_id": 1}},
    ("POST", "/admin/short-domains/{domain_id:int}/grants"): {"form": {"partner_id": "1"}},
    ("POST", "/admin/short-domains/{domain_id:int}/delete"): {"form": {}},
    ("POST", "/admin/short-domains/{domain_id:int}/grants/{partner_id:int}/revoke"): {"form": {}},
    ("PATCH", "/api/admin/packs/{offer_id:int}"): {"json": {"name": "Hijacked", "enabled": False}},
    ("POST", "/admin/packs/{offer_id:int}"): {
        "form": {"name": "Hijacked", "channel": "sms", "country_iso": "ES", "price": "1", "messages": "1"}
    },
    ("POST", "/admin/packs/{offer_id:int}/enabled"): {"form": {"enabled": "0"}},
    ("POST", "/api/packs/{offer_id:int}/buy"): {"json": {"token": "hijack"}},
    ("POST", "/purchase/packs/{offer_id:int}"): {"form": {"token": "hijack"}},
    ("POST", "/admin/packs/held/{held_id:int}/remove"): {"form": {}},
    ("POST", "/api/admin/held-packs/{held_id:int}/remove"): {"json": {}},
}

_PARAM = re.compile(r"{(\w+):\w+}")


@dataclass(frozen=True)
class RouteCase:
    method: str
    template: str
    body: dict[str, Any]

    def url(self, other: Tenant) -> str:
        return _PARAM.sub(lambda m: str(ID_PROVIDERS[m.group(1)](other)), self.template)

    @property
    def is_api(self) -> bool:
        return self.template.startswith("/api/")


def routes_with_ids(app: Litestar) -> list[RouteCase]:
    """Every (method, path) of the app that takes an object id; fails on ids or bodies the harness lacks."""
    cases = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        params = _PARAM.findall(route.path)
        id_params = [p for p in params if p.endswith("_id")]
        if not id_params:
            continue
        missing = [p for p in id_params if p not in ID_PROVIDERS]
        assert not missing, f"{route.path}: add {missing} to ID_PROVIDERS in tests/isolation.py"
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            body = SAMPLE_BODIES.get((method, route.path), {})
            assert method in ("GET", "DELETE") or body, f"{method} {route.path}: add a valid body to SAMPLE_BODIES"
            cases.append(RouteCase(method, route.path, body))
    return cases


async def foreign_id_responses(
    app: Litestar,
    client: httpx.AsyncClient,
    other: Tenant,
    api_headers: dict[str, str],
    *,
    only: set[str] | None = None,
) -> dict[str, int]:
    """Call every id route with ``other``'s ids; returns 'METHOD /path' → status for those that were not 404.

    ``only`` limits the run to routes whose id parameters are all in it.
    """
    leaks: dict[str, int] = {}
    for case in routes_with_ids(app):
        if only is not None and not set(_PARAM.findall(case.template)) <= only:
            continue
        headers = dict(api_headers) if case.is_api else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if "json" in case.body:
            kwargs["json"] = case.body["json"]
        if "form" in case.body:
            kwargs["data"] = {**case.body["form"], "_csrf_token": client.cookies.get("csrftoken", "")}
        if "files" in case.body:
            kwargs["files"] = case.body["files"]
            if not case.is_api:
                kwargs["data"] = {"_csrf_token": client.cookies.get("csrftoken", "")}
        response = await client.request(case.method, case.url(other), **kwargs)
        if response.status_code != 404:
            leaks[f"{case.method} {case.url(other)}"] = response.status_code
    return leaks
