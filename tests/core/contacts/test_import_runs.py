"""CON-6, CON-7 runs: invalid rows, the three contact and stop-list modes, groups, all-or-nothing, 1,000,000 rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.contacts import imports
from core.contacts.fields import create_field
from core.contacts.jobs import sweep_imports
from core.contacts.schemas import FieldIn, ImportStart
from core.contacts.tables import Contact, ContactBlock, ContactGroup, ContactGroupMember, ContactImport
from core.db import engine, is_sqlite, json_value
from core.errors import Conflict, InvalidInput
from core.senders.tables import Sender
from tests.core.contacts.helpers import actor_of, contacts_of, finished, import_file
from tests.factories import make_world


async def members_of(group_id: int) -> set[int]:
    rows = await ContactGroupMember.select(ContactGroupMember.contact).where(ContactGroupMember.group == group_id)
    return {r["contact"] for r in rows}


async def blocks_of(contact_id: int) -> set[int]:
    rows = await ContactBlock.select(ContactBlock.sender).where(ContactBlock.contact == contact_id)
    return {r["sender"] for r in rows}


async def add_sender(partner_id: int, name: str) -> int:
    row = Sender(partner=partner_id, channel="sms", name=name, created_at=datetime.now(UTC))
    await row.save()
    return row.id


async def test_invalid_rows_are_counted_and_written_with_row_number_column_and_reason(app):
    world = await make_world()
    actor = await actor_of(world.a)
    await create_field(actor, FieldIn(name="Points", data_type="number"))
    data = (
        b"Phone,First name,Date of birth,Points\n"
        b"+34 611 111 111,Ana,1990-05-01,10\n"  # 2: fine
        b",Nobody,,\n"  # 3: missing phone
        b"34 6ab 111 222,Letters,,\n"  # 4: letters
        b"3461,Short,,\n"  # 5: too short
        b"0034611111111,Again,,\n"  # 6: duplicate of row 2 after normalisation
        b"34622222222,Bad points,,lots\n"  # 7: bad custom value
        b"34633333333,Bad date,31.02.1990,\n"  # 8: bad date
        b"34622222222,Second,,5\n"  # 9: first *valid* row with this number wins
        b",,,\n"  # 10: blank, not a row
    )
    done = await import_file(app, actor, data)
    assert (done["status"], done["total"], done["added"], done["invalid"]) == ("done", 8, 2, 6)
    contacts = await contacts_of(actor.partner_id)
    assert contacts["34611111111"]["first_name"] == "Ana"
    assert str(contacts["34611111111"]["birth_date"]) == "1990-05-01"
    assert contacts["34622222222"]["first_name"] == "Second"
    assert json_value(contacts["34622222222"]["custom"]) == {"points": 5}
    path, name = await imports.invalid_file(actor, done["id"], app.state.portal.settings.var_dir)
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    assert name == f"invalid-rows-{done['id']}.csv"
    assert rows[0] == ["Row", "Column", "Reason", "Phone", "First name", "Date of birth", "Points"]
    assert [r[:3] for r in rows[1:]] == [
        ["3", "Phone", "empty phone number"],
        ["4", "Phone", "a phone number has only digits (and an optional leading +)"],
        ["5", "Phone", "too short: at least 8 digits with the country code"],
        ["6", "Phone", "duplicate of row 2 (same number 34611111111)"],
        ["7", "Points", "not a number"],
        ["8", "Date of birth", "not a date (YYYY-MM-DD)"],
    ]
    assert rows[4][3:] == ["0034611111111", "Again", "", ""]


@pytest.mark.parametrize(
    ("mode", "expected", "counts"),
    [
        ("add_update", {"34611111111": "New name", "34622222222": "Fresh"}, (1, 1, 0)),
        ("add_new", {"34611111111": "Old name", "34622222222": "Fresh"}, (1, 0, 1)),
        ("update", {"34611111111": "New name"}, (0, 1, 1)),
    ],
)
async def test_contact_modes(app, mode, expected, counts):
    world = await make_world()
    actor = await actor_of(world.a)
    first = await import_file(app, actor, b"Phone,First name,Last name\n34611111111,Old name,Kept\n")
    second = await import_file(
        app, actor, b"Phone,First name\n34611111111,New name\n34622222222,Fresh\n", contact_mode=mode
    )
    assert (second["added"], second["updated"], second["skipped"]) == counts
    contacts = await contacts_of(actor.partner_id)
    assert {p: contacts[p]["first_name"] for p in expected} == expected
    assert ("34622222222" in contacts) == (mode != "update")
    assert contacts["34611111111"]["last_name"] == "Kept"  # a column the file does not have stays as it was
    # Whatever was imported (not skipped) is in the target group.
    taken = {contacts[p]["id"] for p in expected if not (mode == "add_new" and p == "34611111111")}
    assert await members_of(second["group_id"]) == taken
    assert await members_of(first["group_id"]) == {contacts["34611111111"]["id"]}


async def test_stop_list_modes(app):
    world = await make_world()
    actor = await actor_of(world.a)
    shop, news = await add_sender(actor.partner_id, "SHOP"), await add_sender(actor.partner_id, "NEWS")
    numbers = b"Phone,First name\n34611111111,One\n34622222222,Two\n34633333333,Three\n"
    blocked = await import_file(app, actor, numbers, stop_mode="block", sender_ids=[shop])
    contacts = await contacts_of(actor.partner_id)
    ids = {p: c["id"] for p, c in contacts.items()}
    for phone in ("34611111111", "34622222222", "34633333333"):
        assert await blocks_of(ids[phone]) == {shop}
    assert blocked["added"] == 3
    everything = await import_file(app, actor, b"Phone\n34622222222\n", stop_mode="block", group_id=blocked["group_id"])
    assert everything["updated"] == 1 and (await contacts_of(actor.partner_id))["34622222222"]["blocked_all"]

    # Exclude with NEWS chosen: nobody is blocked for NEWS but 34622222222 is blocked for all sender IDs.
    excluded = await import_file(
        app,
        actor,
        b"Phone,First name\n34611111111,Changed\n34622222222,Changed\n34644444444,Four\n",
        stop_mode="exclude",
        sender_ids=[news],
    )
    assert (excluded["added"], excluded["updated"], excluded["skipped"]) == (1, 1, 1)
    contacts = await contacts_of(actor.partner_id)
    assert contacts["34611111111"]["first_name"] == "Changed" and contacts["34622222222"]["first_name"] == "Two"
    assert await members_of(excluded["group_id"]) == {ids["34611111111"], contacts["34644444444"]["id"]}
    # Exclude with no sender chosen: any block excludes.
    any_block = await import_file(app, actor, b"Phone,First name\n34611111111,Again\n34644444444,Four b\n")
    assert (any_block["updated"], any_block["skipped"]) == (1, 1)

    two = b"Phone\n34611111111\n34633333333\n"
    unblocked = await import_file(app, actor, two, stop_mode="unblock", sender_ids=[shop])
    assert unblocked["updated"] == 2
    assert await blocks_of(ids["34611111111"]) == set() and await blocks_of(ids["34633333333"]) == set()
    await import_file(app, actor, b"Phone\n34622222222\n", stop_mode="unblock")
    contacts = await contacts_of(actor.partner_id)
    assert not contacts["34622222222"]["blocked_all"] and await blocks_of(ids["34622222222"]) == set()


async def test_group_is_created_on_the_fly_and_start_checks_its_input(app):
    world = await make_world()
    actor = await actor_of(world.a)
    portal = app.state.portal
    done = await import_file(app, actor, b"Phone\n34611111111\n", new_group="Spain VIP")
    group = await ContactGroup.select().where(ContactGroup.id == done["group_id"]).first()
    assert group["name"] == "Spain VIP" and group["partner"] == actor.partner_id

    uploaded = await imports.create_import(
        actor, "c.csv", b"Phone,Name,Other\n34611111111,Ana,x\n", var_dir=portal.settings.var_dir
    )
    import_id = uploaded.import_.id

    async def start(**options):
        options.setdefault("mapping", {0: "phone", 1: "first_name"})
        return await imports.start_import(actor, portal, import_id, ImportStart(**options))

    with pytest.raises(Conflict, match="A group named 'spain vip' already exists"):
        await start(new_group="spain vip")
    with pytest.raises(InvalidInput, match="Choose a group"):
        await start()
    with pytest.raises(InvalidInput, match="Column 3 and column 2 are both mapped to First name") as twice:
        await start(mapping={0: "phone", 1: "first_name", 2: "first_name"}, group_id=done["group_id"])
    assert twice.value.field == "mapping.2"
    with pytest.raises(InvalidInput, match="Map one column to Phone"):
        await start(mapping={1: "first_name"}, group_id=done["group_id"])
    with pytest.raises(InvalidInput, match="Column 9 is not in the file"):
        await start(mapping={0: "phone", 8: "last_name"}, group_id=done["group_id"])
    with pytest.raises(InvalidInput, match="unknown field 'nickname'"):
        await start(mapping={0: "phone", 1: "nickname"}, group_id=done["group_id"])
    assert (await ContactImport.select().where(ContactImport.id == import_id).first())["status"] == "uploaded"
    await start(group_id=done["group_id"])
    with pytest.raises(Conflict, match="started already"):
        await start(group_id=done["group_id"])
    assert (await finished(import_id))["updated"] == 1


async def test_an_import_failing_half_way_leaves_the_contacts_exactly_as_before(app):
    world = await make_world()
    actor = await actor_of(world.a)
    await import_file(app, actor, b"Phone,First name\n34611111111,Original\n34622222222,Original\n")
    before = await Contact.select().order_by(Contact.id)
    members_before = await ContactGroupMember.select().order_by(ContactGroupMember.id)
    groups_before = await ContactGroup.count()
    # Provoke a constraint violation after the contacts were inserted and updated: the group membership of one
    # number fails, so the whole import has to be undone.
    if is_sqlite():
        await engine().run_ddl(
            "CREATE TRIGGER refuse_member BEFORE INSERT ON contact_group_member"
            " WHEN (SELECT phone FROM contact WHERE id = NEW.contact) = '34699999999'"
            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    else:
        await engine().run_ddl(
            "CREATE FUNCTION refuse_member() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF (SELECT phone FROM contact WHERE id = NEW.contact) = '34699999999' THEN"
            " RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$"
        )
        await engine().run_ddl(
            "CREATE TRIGGER refuse_member BEFORE INSERT ON contact_group_member"
            " FOR EACH ROW EXECUTE FUNCTION refuse_member()"
        )
    try:
        rows = "".join(f"346{i:08d},Changed\n" for i in range(1, 3000)) + "34699999999,Bad\n,missing\n"
        failed = await import_file(
            app, actor, f"Phone,First name\n34611111111,Changed\n{rows}".encode(), stop_mode="block"
        )
    finally:
        if is_sqlite():
            await engine().run_ddl("DROP TRIGGER IF EXISTS refuse_member")
        else:
            await engine().run_ddl("DROP TRIGGER IF EXISTS refuse_member ON contact_group_member")
            await engine().run_ddl("DROP FUNCTION IF EXISTS refuse_member()")
    assert failed["status"] == "failed" and failed["error"].startswith("Nothing was imported")
    assert (failed["added"], failed["updated"], failed["invalid_path"]) == (0, 0, "")
    assert await Contact.select().order_by(Contact.id) == before
    assert await ContactGroupMember.select().order_by(ContactGroupMember.id) == members_before
    assert await ContactBlock.count() == 0
    # The group named at start exists (as "Add Group" in the guide creates it), empty.
    assert await ContactGroup.count() == groups_before + 1 and not await members_of(failed["group_id"])
    progress = await app.state.portal.redis.hgetall(imports.progress_key(failed["id"]))
    assert int(progress[b"percent"]) < 100


async def test_a_million_rows_import(app, tmp_path: Path):
    """1,000,000 numbers of 9 digits fit in 10 MB; they import in one go (the limit is the file's size)."""
    world = await make_world()
    actor = await actor_of(world.a)
    path = tmp_path / "million.csv"
    with path.open("w") as out:
        out.write("Phone\n")
        out.writelines(f"49{n:07d}\n" for n in range(1_000_000))
    assert path.stat().st_size < 10 * 1024 * 1024
    done = await import_file(app, actor, path.read_bytes(), "million.csv")
    assert (done["status"], done["total"], done["added"], done["invalid"]) == ("done", 1_000_000, 1_000_000, 0)
    assert await Contact.count().where(Contact.partner == actor.partner_id) == 1_000_001  # and make_world's one
    assert len(await members_of(done["group_id"])) == 1_000_000


async def test_imports_left_running_by_a_dead_worker_are_marked_failed(app):
    world = await make_world()
    actor = await actor_of(world.a)
    done = await import_file(app, actor, b"Phone\n34611111111\n")
    queued, running = world.a.import_id, world.b.import_id
    await ContactImport.update({ContactImport.status: "queued"}).where(ContactImport.id == queued)
    await ContactImport.update({ContactImport.status: "running"}).where(ContactImport.id == running)
    assert await sweep_imports({"portal": app.state.portal}) == 1
    rows = {r["id"]: r for r in await ContactImport.select()}
    assert rows[running]["status"] == "failed" and "worker running the import stopped" in rows[running]["error"]
    assert rows[queued]["status"] == "queued" and rows[done["id"]]["status"] == "done"


async def test_a_first_import_keeps_a_number_added_by_hand_meanwhile(app):
    """A company's first import COPYs its rows straight in (PostgreSQL); a number added by hand since the import
    looked sends that chunk the staged way instead: the hand-made contact is kept, every other row is added."""
    from core.contacts._import_sql import ImportSql
    from core.db import write_transaction

    world = await make_world()
    partner = world.b.end_user_id
    await Contact.delete().where(Contact.partner == partner)  # a company without contacts: its first import
    group = await ContactGroup.select(ContactGroup.id).where(ContactGroup.partner == partner).first()
    row = {
        "partner": partner,
        "group_id": group["id"],
        "stop_senders": [],
        "stop_mode": "none",
        "contact_mode": "add_new",
    }
    rows = [(f"3460700000{n}", f"Name {n}", None, None, None, None, None) for n in range(5)]
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = ImportSql(tx.connection, sqlite=is_sqlite(), row=row, user_id=None)
        await sql.create_stage()
        assert sql.had_contacts is False
        await Contact.insert(
            Contact(partner=partner, phone="34607000002", first_name="By hand", created_at=now, updated_at=now)
        )
        added, updated = await sql.apply(rows)
        await sql.drop_stage()
    assert (added, updated) == (4, 0)
    contacts = await contacts_of(partner)
    assert len(contacts) == 5 and contacts["34607000002"]["first_name"] == "By hand"
    assert contacts["34607000004"]["first_name"] == "Name 4"
    members = await ContactGroupMember.count().where(ContactGroupMember.group == group["id"])
    assert members == 4
