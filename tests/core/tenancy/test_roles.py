"""ACC-7 roles in the Admin Panel: an operator looks, an admin changes — every change of docs' role table, tried.

Each case is a request a reseller's operator could send about the reseller's own client or portal: it must be
refused with 403 and change nothing (no audit row), and the same request by the reseller's admin must succeed,
so a refusal proves the role rule and not a scoping or validation error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.tenancy.tables import AuditEntry
from tests.factories import World, api_token, make_world, post_form, sign_in

DOCS = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"

# (method, path, body) with {end_user} and {portal} of the acting reseller's own tenant.
API_CASES = [
    ("PATCH", "/api/admin/partners/{end_user}", {"credit_limit": "500"}),
    ("PATCH", "/api/admin/partners/{end_user}", {"blocked": True}),
    ("PATCH", "/api/admin/partners/{end_user}", {"name": "Renamed"}),
    ("POST", "/api/admin/partners", {"name": "New client", "kind": "end_user"}),
    ("POST", "/api/admin/portals", {"slug": "new-one", "brand_name": "New", "hosts": ["fresh.test"]}),
    ("PATCH", "/api/admin/portals/{portal}", {"brand_name": "Rebranded"}),
    (
        "POST",
        "/api/admin/partners/{end_user}/users",
        {"email": "new@a.test", "first_name": "A", "last_name": "B", "password": "0123456789ab"},
    ),
    ("POST", "/api/admin/partners/{end_user}/balance-adjustments", {"amount": "10", "reason": "Bank transfer"}),
    ("POST", "/api/admin/rate-plans", {"name": "Retail", "channel": "sms"}),
]
PAGE_CASES = [
    ("/admin/partners/{end_user}", {"name": "Renamed", "credit_limit": "500"}),
    ("/admin/partners/{end_user}/block", {"blocked": "1"}),
    ("/admin/partners", {"name": "New client", "kind": "end_user", "credit_limit": "0"}),
    (
        "/admin/portals/{portal}",
        {"brand_name": "Rebranded", "hosts": "a.test", "theme": "default", "default_language": "en", "languages": "en"},
    ),
    ("/admin/partners/{end_user}/balance", {"amount": "10", "reason": "Bank transfer"}),
]


def _url(path: str, world: World) -> str:
    return path.format(end_user=world.a.end_user_id, portal=world.a.portal_id)


@pytest.mark.parametrize(("method", "path", "body"), API_CASES, ids=[f"{m} {p} {sorted(b)}" for m, p, b in API_CASES])
async def test_a_reseller_operator_cannot_change_what_its_admin_can_through_the_api(client_for, method, path, body):
    world = await make_world()
    client = client_for(world.a.host)
    url = _url(path, world)
    operator = await api_token(client, world.a.reseller_operator)
    before = await AuditEntry.count()
    refused = await client.request(method, url, headers=operator, json=body)
    assert refused.status_code == 403, refused.text
    assert "Operators cannot" in refused.json()["detail"]
    assert await AuditEntry.count() == before
    admin = await api_token(client, world.a.reseller_admin)
    allowed = await client.request(method, url, headers=admin, json=body)
    assert allowed.status_code in (200, 201), allowed.text


@pytest.mark.parametrize(("path", "form"), PAGE_CASES, ids=[p for p, _ in PAGE_CASES])
async def test_a_reseller_operator_cannot_change_what_its_admin_can_in_the_admin_panel(client_for, path, form):
    world = await make_world()
    url = _url(path, world)
    operator = client_for(world.a.host)
    await sign_in(operator, world.a.reseller_operator)
    before = await AuditEntry.count()
    refused = await post_form(operator, url, form)
    assert refused.status_code == 403, refused.text[:500]
    assert "Operators cannot" in refused.text
    assert await AuditEntry.count() == before
    admin = client_for(world.a.host)
    await sign_in(admin, world.a.reseller_admin)
    allowed = await post_form(admin, url, form)
    assert allowed.status_code in (200, 302, 303), allowed.text[:500]
    assert await AuditEntry.count() > before


def test_the_role_table_is_documented():
    text = DOCS.read_text()
    table = text[text.index("### Who may change what") :]
    for needle in ("Partners: create, rename, credit limit, options, block", "Portals: create, settings", "API keys"):
        assert needle in table, needle
