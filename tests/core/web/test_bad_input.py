"""Bad input is the client's error, never a 500 (issue 17, findings 7 and 8): huge ids and pages, odd bodies."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from core.contacts.tables import Contact
from tests.factories import api_token, csrf, make_world, sign_in
from tests.isolation import SAMPLE_BODIES

# Past PostgreSQL `integer` (SERIAL ids), past `bigint` (EDR ids), past 64 bits: each once broke a query.
OVERSIZED = (2**31, 2**63, 99999999999999999999999)
_INT_PARAM = re.compile(r"{(\w+):int}")
_ANY_PARAM = re.compile(r"{(\w+):(\w+)}")
# Refusals that come before the parameters are read (sign-in redirect, role guard) also keep the data safe.
_REFUSED_FIRST = {302, 303, 401, 403}


def _routes(app: Litestar) -> list[tuple[str, str]]:
    return [
        (method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"})
    ]


def _request_kwargs(client: httpx.AsyncClient, method: str, template: str, headers: dict[str, str]) -> dict[str, Any]:
    body = SAMPLE_BODIES.get((method, template), {})
    kwargs: dict[str, Any] = {"headers": headers if template.startswith("/api/") else {}}
    if "json" in body:
        kwargs["json"] = body["json"]
    if "files" in body:
        kwargs["files"] = body["files"]
    if not template.startswith("/api/") and method != "GET":
        kwargs["data"] = {**body.get("form", {}), "_csrf_token": csrf(client)}
    return kwargs


async def _owner(client_for) -> tuple[httpx.AsyncClient, dict[str, str]]:
    world = await make_world()
    client = client_for(world.owner_host)
    await sign_in(client, "owner@main.test")
    return client, await api_token(client, "owner@main.test")


async def test_every_int_path_parameter_beyond_its_column_is_a_404(app, client_for):
    client, headers = await _owner(client_for)
    answers: dict[str, int] = {}
    for method, template in _routes(app):
        names = _INT_PARAM.findall(template)
        if not names:
            continue
        for name in names:
            for value in OVERSIZED:
                # The parameter under test is oversized; any other one is a plausible small id or word.
                url = _ANY_PARAM.sub(
                    lambda m, name=name, value=value: str(value if m[1] == name else 1 if m[2] == "int" else "cancel"),
                    template,
                )
                response = await client.request(method, url, **_request_kwargs(client, method, template, headers))
                answers[f"{method} {url}"] = response.status_code
    assert len(answers) > 250
    assert {k: v for k, v in answers.items() if v != 404 and v not in _REFUSED_FIRST} == {}


async def test_oversized_page_numbers_and_sizes_are_a_400_naming_the_parameter(app, client_for):
    client, headers = await _owner(client_for)
    lists = [t for m, t in _routes(app) if m == "GET" and not _ANY_PARAM.search(t)]
    named: dict[str, set[str]] = {}
    errors: dict[str, int] = {}
    for template in lists:
        for param in ("page", "page_no", "per_page"):
            response = await client.get(
                template, params={param: str(OVERSIZED[-1])}, headers=headers if template.startswith("/api/") else {}
            )
            if response.status_code >= 500:
                errors[f"{template}?{param}"] = response.status_code
            if (
                response.status_code in (400, 422)
                and template.startswith("/api/")
                and response.json().get("field") == param
            ):
                named.setdefault(template, set()).add(param)
    assert errors == {}
    for api_list in ("/api/contacts", "/api/groups", "/api/edrs", "/api/campaigns", "/api/admin/partners"):
        assert {"page", "per_page"} <= named.get(api_list, set()), (api_list, named.get(api_list))
    # Pages say it on the error page.
    for page in ("/contacts/groups?page_no=", "/admin/partners?page_no=", "/contacts/imports?page_no="):
        response = await client.get(page + str(OVERSIZED[-1]))
        assert response.status_code == 400 and "page_no:" in response.text, page


async def test_oversized_ids_in_a_body_name_the_field(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    for body, field in (
        ({"ids": [OVERSIZED[0]]}, "ids[0]"),
        ({"all_matching": True, "filter": {"group_id": OVERSIZED[-1]}}, "filter.group_id"),
    ):
        response = await client.post("/api/contacts/delete", headers=headers, json=body)
        assert response.status_code == 400 and response.json()["field"] == field, response.text
    assert await Contact.count() == 2
    reseller = await api_token(client, world.a.reseller_admin)
    response = await client.post(
        "/api/admin/partners", headers=reseller, json={"name": "X", "kind": "end_user", "parent_id": OVERSIZED[0]}
    )
    assert response.status_code == 400 and response.json()["field"] == "parent_id", response.text
    response = await client.post(
        "/api/contacts", headers={**headers, "Content-Type": "application/json"}, content=b'{"phone": 1e400}'
    )
    assert response.status_code == 400 and "field" not in response.json(), response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [({"ids": []}, "ids"), ({"ids": [], "all_matching": False}, "ids"), ({}, "ids")],
)
async def test_an_empty_selection_in_every_mass_action_names_the_field(client_for, body, field):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    actions = {
        "/api/contacts/delete": body,
        "/api/contacts/group-action": {"selection": body, "group_id": world.a.group_id, "action": "add"},
        "/api/stoplist/block": {"selection": body, "all_senders": True},
        "/api/stoplist/unblock": {"selection": body, "all_senders": True},
    }
    for url, payload in actions.items():
        response = await client.post(url, headers=headers, json=payload)
        assert response.status_code == 422 and response.json()["field"] == field, (url, response.text)
    assert await Contact.count() == 2


async def test_bodies_that_are_not_plain_utf8_json_are_refused_with_the_reason(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    contact = {"phone": "+34699000300", "groups": [world.a.group_id]}
    json_type = {**headers, "Content-Type": "application/json"}
    cases = [
        (b'{"phone": "\xff\xfe", "groups": [1]}', json_type, 400, "UTF-8"),
        (b"[" * 100_000, json_type, 400, "nests"),
        (b'{"phone": "+34699000300", "groups": [1]}', {**headers, "Content-Type": "text/plain"}, 415, "JSON"),
        (
            b'{"phone": "+34699000300", "groups": [1]}',
            {**headers, "Content-Type": "application/x-www-form-urlencoded"},
            415,
            "JSON",
        ),
    ]
    for content, request_headers, status, reason in cases:
        response = await client.post("/api/contacts", headers=request_headers, content=content)
        assert response.status_code == status, response.text
        assert response.json()["field"] == "body" and reason in response.json()["detail"], response.text
    nested = await client.post(
        "/api/contacts", headers=headers, json={**contact, "custom": {"loyalty_level": {"a": [1, {"b": 2}]}}}
    )
    assert nested.status_code == 422 and nested.json()["field"] == "custom.loyalty_level", nested.text
    # application/json with a charset and a +json type are JSON; an empty body needs no type.
    ok = await client.post(
        "/api/contacts",
        headers={**headers, "Content-Type": "application/json; charset=utf-8"},
        content=b'{"phone": "+34699000300", "groups": [%d]}' % world.a.group_id,
    )
    assert ok.status_code == 201, ok.text
    assert await Contact.count() == 3
