"""Import Contacts and Import History through the pages and the REST API: the flow a person and a program use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.contacts.tables import ContactImport
from tests.core.contacts.helpers import finished
from tests.factories import api_token, make_world, post_form, sign_in


async def test_upload_map_start_and_watch_the_progress_on_the_pages(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    history = await client.get("/contacts/imports")
    assert history.status_code == 200 and 'class="active" aria-current="page">Import History' in history.text
    assert "contacts.csv" in history.text  # the one make_world uploaded, not started yet
    upload_page = await client.get("/contacts/import")
    assert 'enctype="multipart/form-data"' in upload_page.text and "data-dropzone" in upload_page.text
    original = "Teléfono;Nombre;Apellido\n+34 611 111 111;Ana;López\n34622222222;Bob;Smith\nnot a number;X;Y\n".encode()
    uploaded = await client.post(
        "/contacts/imports",
        data={"_csrf_token": client.cookies.get("csrftoken"), "target": ""},
        files={"file": ("spain.csv", original, "text/csv")},
    )
    assert uploaded.status_code in (302, 303), uploaded.text
    mapping_url = uploaded.headers["location"]
    import_id = int(re.search(r"/imports/(\d+)/mapping", mapping_url).group(1))
    mapping = (await client.get(mapping_url)).text
    assert '<option value="phone" selected>Phone *</option>' in mapping
    assert 'name="has_header" value="1" checked' in mapping and "López" in mapping
    assert 'value="add_update" checked' in mapping and 'value="exclude" checked' in mapping

    twice = await post_form(
        client,
        f"/contacts/imports/{import_id}/start",
        {"column.0": "phone", "column.1": "first_name", "column.2": "first_name", "new_group": "Spain"},
    )
    assert twice.status_code == 422
    assert "Column 3 and column 2 are both mapped to First name" in twice.text
    assert 'name="column.2" aria-label="Column 3" class="mapped invalid"' in twice.text
    assert 'name="new_group" maxlength="120" value="Spain"' in twice.text  # what was typed stays

    started = await post_form(
        client,
        f"/contacts/imports/{import_id}/start",
        {
            "column.0": "phone",
            "column.1": "first_name",
            "column.2": "last_name",
            "has_header": "1",
            "new_group": "Spain",
        },
    )
    assert started.headers["location"] == f"/contacts/imports/{import_id}"
    progress_page = (await client.get(started.headers["location"])).text
    assert "spain.csv" in progress_page and 'id="import-status"' in progress_page
    await finished(import_id)
    fragment = (await client.get(f"/contacts/imports/{import_id}/progress")).text
    assert "hx-get" not in fragment  # done: the polling stops
    assert '<strong data-testid="import-percent">100 %</strong>' in fragment
    counts = dict(re.findall(r"<dt>(\w+)</dt><dd>([\d,]+)</dd>", fragment))
    assert counts == {"Added": "2", "Updated": "0", "Skipped": "0", "Invalid": "1"}
    assert f"/contacts/imports/{import_id}/invalid" in fragment

    history = (await client.get("/contacts/imports")).text
    assert history.index("spain.csv") < history.index("contacts.csv")  # newest first
    assert "user@a.test" in history and "Spain" in history and "Done" in history
    download = await client.get(f"/contacts/imports/{import_id}/file")
    assert download.status_code == 200 and download.content == original
    assert 'attachment; filename="spain.csv"' in download.headers["content-disposition"]
    invalid = await client.get(f"/contacts/imports/{import_id}/invalid")
    assert invalid.headers["content-type"].startswith("text/csv")
    assert invalid.content.decode("utf-8-sig").splitlines() == [
        "Row,Column,Reason,Teléfono,Nombre,Apellido",
        "4,Teléfono,a phone number has only digits (and an optional leading +),not a number,X,Y",
    ]
    again = await post_form(client, f"/contacts/imports/{import_id}/start", {"column.0": "phone", "group_id": "1"})
    assert again.status_code in (302, 303)  # a started import's mapping page leads to its progress


async def test_the_stop_list_tabs_import_button_preselects_import_to_stop_list(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    upload_page = (await client.get("/contacts/import?target=stoplist")).text
    assert 'name="target" value="stoplist"' in upload_page
    uploaded = await client.post(
        "/contacts/imports",
        data={"_csrf_token": client.cookies.get("csrftoken"), "target": "stoplist"},
        files={"file": ("stop.csv", b"34611111111\n34622222222\n")},
    )
    assert uploaded.headers["location"].endswith("/mapping?target=stoplist")
    mapping = (await client.get(uploaded.headers["location"])).text
    assert 'value="block" checked' in mapping and 'name="has_header" value="1" checked' not in mapping


async def test_the_page_polls_while_the_import_runs(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    await ContactImport.update({ContactImport.status: "running"}).where(ContactImport.id == world.a.import_id)
    live = {"percent": 45, "processed": 450, "total": 1000}
    await app.state.portal.redis.hset(f"import_progress:{world.a.import_id}", mapping=live)
    fragment = (await client.get(f"/contacts/imports/{world.a.import_id}/progress")).text
    assert f'hx-get="/contacts/imports/{world.a.import_id}/progress" hx-trigger="every 1s"' in fragment
    assert 'style="width: 45%"' in fragment and "450 of about 1,000 rows read" in fragment


async def test_history_is_paginated_and_has_an_empty_state(client_for):
    world = await make_world()
    client = client_for(world.b.host)
    await sign_in(client, world.b.end_user_operator)
    await ContactImport.delete().where(ContactImport.id == world.b.import_id)
    assert "No imports yet" in (await client.get("/contacts/imports")).text
    await ContactImport.insert(
        *[
            ContactImport(partner=world.b.end_user_id, filename=f"file-{n:02d}.csv", stored_path="", created_at=when)
            for n, when in enumerate(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(55))
        ]
    )
    first = (await client.get("/contacts/imports")).text
    second = (await client.get("/contacts/imports?page_no=2")).text
    assert "Page 1 / 2" in first and first.count("<tr>") == 50 + 1 and second.count("<tr>") == 5 + 1
    assert first.index("file-54.csv") < first.index("file-53.csv") and "file-00.csv" in second


async def test_rest_api_uploads_starts_follows_and_lists(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    key = {"Authorization": f"Bearer {world.a.api_key}"}
    body = b"phone,first_name\n34611111111,Ana\n34611111111,Dup\n"
    uploaded = await client.post("/api/imports", headers=key, files={"file": ("api.csv", body)})
    assert uploaded.status_code == 201, uploaded.text
    payload = uploaded.json()
    import_id = payload["import"]["id"]
    assert payload["import"]["status"] == "uploaded"
    assert payload["preview"]["suggested"] == {"0": "phone", "1": "first_name"}
    bad = await client.post(f"/api/imports/{import_id}/start", headers=key, json={"mapping": {"1": "first_name"}})
    assert bad.status_code == 422 and bad.json() == {
        "status_code": 422,
        "detail": "Map one column to Phone",
        "field": "mapping",
    }
    started = await client.post(
        f"/api/imports/{import_id}/start",
        headers=key,
        json={"mapping": {"0": "phone", "1": "first_name"}, "has_header": True, "group_id": world.a.group_id},
    )
    assert started.status_code == 202 and started.json()["status"] in ("queued", "running", "done")
    await finished(import_id)
    view = (await client.get(f"/api/imports/{import_id}", headers=key)).json()
    assert (view["status"], view["percent"], view["added"], view["invalid"]) == ("done", 100, 1, 1)
    assert view["group"] == {"id": world.a.group_id, "name": "Customers a"}
    invalid = await client.get(f"/api/imports/{import_id}/invalid", headers=key)
    assert "duplicate of row 2" in invalid.text
    assert (await client.get(f"/api/imports/{import_id}/file", headers=key)).content == body
    listing = (await client.get("/api/imports?per_page=1", headers=key)).json()
    assert listing["total"] == 2 and listing["items"][0]["id"] == import_id
    token = await api_token(client, world.a.end_user_operator)
    assert (await client.get("/api/imports", headers=token)).json()["total"] == 2  # the company's, any user
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/imports/{import_id}/start" in schema["paths"] and "/api/contacts/export" in schema["paths"]


async def test_another_tenants_import_is_404_everywhere(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    key = {"Authorization": f"Bearer {world.a.api_key}"}
    other = world.b.import_id
    for url in ("", "/mapping", "/progress", "/file", "/invalid"):
        assert (await client.get(f"/contacts/imports/{other}{url}")).status_code == 404, url
    for url in ("", "/file", "/invalid"):
        assert (await client.get(f"/api/imports/{other}{url}", headers=key)).status_code == 404, url
    start = await post_form(client, f"/contacts/imports/{other}/start", {"column.0": "phone", "new_group": "X"})
    assert start.status_code == 404
    api_start = await client.post(
        f"/api/imports/{other}/start", headers=key, json={"mapping": {"0": "phone"}, "new_group": "X"}
    )
    assert api_start.status_code == 404
    assert (await ContactImport.select().where(ContactImport.id == other).first())["status"] == "uploaded"
    assert [i["id"] for i in (await client.get("/api/imports", headers=key)).json()["items"]] == [world.a.import_id]
