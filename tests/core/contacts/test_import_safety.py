"""Issue 17, findings 5 and 10: an import always lands in a group that exists; its files come back harmless."""

from __future__ import annotations

import csv
import io
import re

import pytest

from core.contacts import groups, imports
from core.contacts.fields import create_field
from core.contacts.schemas import FieldIn
from core.contacts.tables import ContactGroup, ContactImport
from core.errors import Conflict
from tests.core.contacts.helpers import actor_of, contacts_of, import_file
from tests.factories import make_world, sign_in


async def test_the_refused_rows_report_keeps_formulas_as_text_and_phone_numbers_as_written(app):
    world = await make_world()
    actor = await actor_of(world.a)
    await create_field(actor, FieldIn(name="Points", data_type="number"))
    data = (
        b"Phone,First name,Points\n"
        b'+34 622 222 222,"=HYPERLINK(""http://evil.test"",""x"")",lots\n'  # refused for Points
        b"@SUM(A1),-2+3,\n"  # refused for the phone
    )
    done = await import_file(app, actor, data)
    assert (done["status"], done["invalid"]) == ("done", 2)
    path, _ = await imports.invalid_file(actor, done["id"], app.state.portal.settings.var_dir)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Row", "Column", "Reason", "Phone", "First name", "Points"]
    assert rows[1][3:] == ["+34 622 222 222", '\'=HYPERLINK("http://evil.test","x")', "lots"]
    assert rows[2][3:5] == ["'@SUM(A1)", "'-2+3"]


async def test_the_uploaded_file_is_served_as_the_type_it_is_not_the_type_its_name_claims(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    content = b"Phone,Comment\n+34611111111,<script>alert(1)</script>\n"
    uploaded = await client.post(
        "/contacts/imports",
        data={"_csrf_token": client.cookies.get("csrftoken"), "target": ""},
        files={"file": ("page.html", content, "text/html")},
    )
    assert uploaded.status_code in (302, 303), uploaded.text
    import_id = int(re.search(r"/imports/(\d+)/mapping", uploaded.headers["location"]).group(1))
    download = await client.get(f"/contacts/imports/{import_id}/file")
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_a_group_cannot_be_deleted_while_an_import_into_it_is_unfinished(app):
    world = await make_world()
    actor = await actor_of(world.a)
    group = await groups.create_group(actor, groups.GroupIn(name="Arriving"))
    row = (await ContactImport.select().where(ContactImport.partner == actor.partner_id).first())["id"]
    for status in ("queued", "running"):
        await ContactImport.update({ContactImport.status: status, ContactImport.group_id: group.id}).where(
            ContactImport.id == row
        )
        with pytest.raises(Conflict, match="An import into this group has not finished"):
            await groups.delete_group(actor, group.id)
    await ContactImport.update({ContactImport.status: "done"}).where(ContactImport.id == row)
    await groups.delete_group(actor, group.id)
    assert not await ContactGroup.exists().where(ContactGroup.id == group.id)


async def test_an_import_whose_group_was_deleted_before_it_ran_fails_and_adds_nothing(app):
    world = await make_world()
    actor = await actor_of(world.a)
    before = await contacts_of(actor.partner_id)
    portal = app.state.portal
    uploaded = await imports.create_import(
        actor, "late.csv", b"Phone\n+34611111111\n+34622222222\n", var_dir=portal.settings.var_dir
    )
    group = await groups.create_group(actor, groups.GroupIn(name="Gone"))
    # The state a start racing a group's deletion leaves: queued, its group deleted before the job ran.
    await ContactImport.update(
        {
            ContactImport.status: "queued",
            ContactImport.mapping: {"has_header": True, "columns": {"0": "phone"}},
            ContactImport.group_id: group.id,
        }
    ).where(ContactImport.id == uploaded.import_.id)
    await ContactGroup.delete().where(ContactGroup.id == group.id)

    outcome = await imports.run_import(portal, uploaded.import_.id)
    row = await ContactImport.select().where(ContactImport.id == uploaded.import_.id).first()
    assert outcome.startswith("failed") and row["status"] == "failed"
    assert row["error"] == "Nothing was imported: the group the contacts were to join was deleted"
    assert await contacts_of(actor.partner_id) == before
