"""Export to XLSX (issue 4, item 5): selection, all matching a filter, a group, the REST API; formulas neutralised."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from core.contacts.schemas import ContactIn
from core.contacts.services import create_contact
from core.web.spreadsheets import neutralise
from tests.core.contacts.helpers import actor_of
from tests.factories import make_world, post_form, sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def exports_on_disk() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("contacts-*.xlsx"))


def sheet_rows(content: bytes) -> list[list[str]]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    return [[str(c) for c in row] for row in sheet.iter_rows()]


async def test_selection_exports_every_column_with_formulas_neutralised(client_for):
    world = await make_world()
    actor = await actor_of(world.a)
    risky = await create_contact(
        actor,
        ContactIn(
            phone="+34 622 222 222",
            groups=[world.a.group_id],
            first_name='=HYPERLINK("http://evil.test","Click")',
            last_name="@SUM(A1)",
            comments="-2+3",
            custom={"loyalty_level": "+gold"},
        ),
    )
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    await client.get("/contacts/imports")
    before = exports_on_disk()
    response = await post_form(client, "/contacts/export", {"ids": [str(risky.id)]})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert exports_on_disk() == before  # served, then deleted
    assert response.headers["content-disposition"].startswith('attachment; filename="contacts-')
    rows = sheet_rows(response.content)
    assert rows[0] == [
        "Phone",
        "Groups",
        "First name",
        "Last name",
        "Date of birth",
        "Gender",
        "Comments",
        "Blocked sender IDs",
        "Created",
        "Last updated",
        "Created by",
        "Loyalty level",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Phone"] == "34622222222" and row["Groups"] == "Customers a" and row["Created by"] == "user@a.test"
    assert row["First name"] == '\'=HYPERLINK("http://evil.test","Click")'
    assert (row["Last name"], row["Comments"], row["Loyalty level"]) == ("'@SUM(A1)", "'-2+3", "'+gold")
    assert neutralise("\tx") == "'\tx" and neutralise("Ana") == "Ana"


async def test_all_matching_a_filter_a_group_and_the_rest_api(client_for):
    world = await make_world()
    actor = await actor_of(world.a)
    for n in range(12):
        await create_contact(
            actor, ContactIn(phone=f"3465555{n:04d}", groups=[world.a.group_id], first_name="Maria" if n % 2 else "Jon")
        )
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    await client.get("/contacts/imports")
    matching = await post_form(client, "/contacts/export", {"all_matching": "1", "first_name": "mar", "ids": ["1"]})
    rows = sheet_rows(matching.content)
    assert len(rows) == 1 + 6 and {r[2] for r in rows[1:]} == {"Maria"}
    group = await client.get(f"/contacts/groups/{world.a.group_id}/export")
    assert group.status_code == 200 and len(sheet_rows(group.content)) == 1 + 13  # make_world's contact too
    assert (await client.get(f"/contacts/groups/{world.b.group_id}/export")).status_code == 404
    foreign = await post_form(client, "/contacts/export", {"ids": [str(world.b.contact_id)]})
    assert sheet_rows(foreign.content) == [sheet_rows(matching.content)[0]]  # another tenant's id exports nothing
    key = {"Authorization": f"Bearer {world.a.api_key}"}
    api = await client.get("/api/contacts/export?phone=3465555000&first_name=jon", headers=key)
    assert api.status_code == 200 and api.headers["content-type"] == XLSX
    assert [r[0] for r in sheet_rows(api.content)[1:]] == [f"3465555000{n}" for n in (0, 2, 4, 6, 8)]
    bad = await client.get("/api/contacts/export?created_from=yesterday", headers=key)
    assert bad.status_code == 422 and bad.json()["field"] == "created_from"
