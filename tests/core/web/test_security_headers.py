"""Every page carries a Content-Security-Policy without inline script, nosniff, anti-framing and HSTS; and no
template has inline script that such a policy would block."""

from __future__ import annotations

import re

from core.web.templating import CORE_DIR
from tests.factories import make_world

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)


async def test_the_sign_in_page_forbids_inline_script_framing_and_sniffing(app, client_for):
    world = await make_world()
    response = await client_for(world.a.host).get("/login")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_errors_and_api_answers_carry_them_too(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    for path in ("/no-such-page", "/api/contacts"):
        response = await client.get(path)
        assert response.status_code in (401, 404)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_no_template_has_inline_script_or_event_handler_attributes():
    roots = [CORE_DIR, CORE_DIR.parent / "plugins", CORE_DIR.parent / "tenants"]
    offenders = [
        f"{path.relative_to(CORE_DIR.parent)}: {match.group(0)}"
        for root in roots
        for path in root.rglob("*.html")
        for pattern in (INLINE_SCRIPT, HANDLER)
        for match in pattern.finditer(path.read_text())
    ]
    assert offenders == []


async def test_the_api_reference_page_loads_only_our_own_files_under_the_policy(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    page = await client.get("/schema/swagger")
    assert page.status_code == 200 and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/static/") for source in sources), sources
    assert not INLINE_SCRIPT.search(page.text)
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 1000, source
    assert (await client.get("/schema/openapi.json")).json()["info"]["title"] == "Campaign Portal API"
