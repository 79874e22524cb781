"""EDR exports (STA-2, STA-3): the count first, a background task per file, cancel, restart, expiry, e-mail, scope."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import msgspec
from aiosmtpd.controller import Controller
from python_calamine import CalamineWorkbook

from core.accounts.tables import User
from core.campaigns.tables import Campaign
from core.mail.services import deliver
from core.statistics import exports
from core.statistics.tables import ExportTask
from core.web.spreadsheets import XLSX_TYPE
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.contacts.helpers import actor_of
from tests.core.mail.test_mail import Inbox
from tests.core.statistics.test_edr import edr
from tests.factories import api_token, make_world, outbox, post_form, sign_in
from tests.isolation import foreign_id_responses
from tests.ports import free_port

NOON = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)  # 12:30 in Madrid


async def finished(client, headers, task_id: int) -> dict:
    """The task once its job is done: out of "waiting", and mailed when it goes by e-mail (the test app's worker)."""
    for _ in range(300):
        task = (await client.get(f"/api/edrs/exports/{task_id}", headers=headers)).json()
        if task["status"] != "waiting" and not (task["delivery"] == "email" and task["status"] == "ready"):
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {task_id} still waiting: {task}")


async def records(app, world) -> None:
    actor = await actor_of(world.a)
    campaign = await scheduled_campaign(app, actor, world.a, name="Spring", text="Hello from the campaign")
    await edr(world.a.end_user_id, campaign=campaign.id, created_at=NOON, price=50_000, rate=50_000)
    await edr(world.a.end_user_id, text='=HYPERLINK("http://evil")', status="FAILED", created_at=NOON)
    await edr(world.a.end_user_id, created_at=NOON - timedelta(days=400))  # outside the filter below
    await edr(world.b.end_user_id, created_at=NOON)  # another tenant's
    await User.update({User.timezone: "Europe/Madrid", User.date_format: "DD.MM.YYYY"}).where(
        User.email == world.a.end_user_admin
    )


async def test_csv_export_of_the_filtered_records_with_chosen_columns(app, client_for):
    world = await make_world()
    await records(app, world)
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    body = {
        "filters": {"created_from": "2026-01-01T00:00:00Z"},
        "columns": ["created_at", "campaign", "text", "status", "price"],
        "file_format": "csv",
    }
    created = await client.post("/api/edrs/exports", headers=headers, json=body)
    assert created.status_code == 201 and created.json()["total"] == 2
    task = await finished(client, headers, created.json()["id"])
    assert task["status"] == "ready" and task["written"] == 2 and task["download_url"]
    download = await client.get(f"/api/edrs/exports/{task['id']}/file", headers=headers)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["Created", "Campaign", "Text", "Status", "Price"]
    assert sorted(rows[1:]) == sorted(
        [
            ["02.03.2026 12:30", "Spring", "Hello from the campaign", "DELIVERED", "0.05"],
            ["02.03.2026 12:30", "", '\'=HYPERLINK("http://evil")', "FAILED", "0"],  # neutralised, never a formula
        ]
    )


async def delivered(settings, mail_id: int) -> EmailMessage:
    """The stored mail sent through SMTP to the capturing server of the mail tests, as it arrives there."""
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        own = msgspec.structs.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")
        assert await deliver(own, mail_id, final_attempt=True) == "sent"
    finally:
        server.stop()
    [message] = inbox.messages
    return message


async def test_xlsx_by_email_arrives_attached_with_a_link_too(app, client_for):
    world = await make_world()
    await records(app, world)
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    body = {"filters": {"status": "FAILED"}, "file_format": "xlsx", "delivery": "email"}
    created = (await client.post("/api/edrs/exports", headers=headers, json=body)).json()
    task = await finished(client, headers, created["id"])
    assert task["status"] == "sent"
    [mail] = await outbox(world.a.end_user_admin, "export_ready")
    assert f"https://a.test/statistics/exports/{task['id']}/file" in mail["text_body"]
    assert "The file is attached to this message." in mail["text_body"]
    content = (await client.get(f"/api/edrs/exports/{task['id']}/file", headers=headers)).content
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert sheet[0][:3] == ["Created", "Transaction ID", "Campaign"] and len(sheet) == 2
    assert '\'=HYPERLINK("http://evil")' in sheet[1]

    message = await delivered(app.state.portal.settings, mail["id"])
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == f"edr-export-{task['id']}.xlsx"
    assert attached.get_content_type() == XLSX_TYPE and attached.get_content() == content


async def test_a_file_over_the_mail_limit_is_sent_as_a_link_only(app, client_for, monkeypatch):
    monkeypatch.setattr(exports, "MAIL_ATTACH_LIMIT", 10)  # bytes: any file is "larger than 25 MB" here
    world = await make_world()
    await records(app, world)
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    body = {"filters": {"status": "FAILED"}, "file_format": "csv", "delivery": "email"}
    created = (await client.post("/api/edrs/exports", headers=headers, json=body)).json()
    task = await finished(client, headers, created["id"])
    assert task["status"] == "sent" and task["file_size"] > 10
    [mail] = await outbox(world.a.end_user_admin, "export_ready")
    assert mail["attachment_path"] == "" and "attached" not in mail["text_body"]
    message = await delivered(app.state.portal.settings, mail["id"])
    assert list(message.iter_attachments()) == []
    assert f"https://a.test/statistics/exports/{task['id']}/file" in message.get_body(("plain",)).get_content()


async def test_bad_requests_name_the_field(app, client_for):
    world = await make_world()
    await records(app, world)
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    nothing = await client.post("/api/edrs/exports", headers=headers, json={"filters": {"status": "SEEN"}})
    assert nothing.status_code == 422 and nothing.json()["field"] == "filters"
    twice = await client.post("/api/edrs/exports", headers=headers, json={"columns": ["status", "status"]})
    assert twice.status_code == 422 and twice.json()["field"] == "columns"
    unknown = await client.post("/api/edrs/exports", headers=headers, json={"columns": ["password"]})
    assert unknown.status_code == 400 and "columns" in unknown.text
    assert await ExportTask.count() == 0


async def test_a_task_cancelled_midway_leaves_no_file_and_can_be_restarted(app, client_for, monkeypatch):
    world = await make_world()
    await records(app, world)
    actor = await actor_of(world.a)
    portal = app.state.portal
    task = (await ExportTask.insert(_waiting(actor)).returning(ExportTask.id))[0]["id"]
    batches = exports.newest_first

    async def cancelled_after_the_first_batch(table, where, size):
        async for rows in batches(table, where, size):
            yield rows
            await exports.cancel_export(actor, task)

    monkeypatch.setattr(exports, "newest_first", cancelled_after_the_first_batch)
    folder = Path(portal.settings.var_dir) / "exports"
    before = set(folder.rglob("*"))
    assert await exports.run_export(portal, task) == "cancelled"
    assert set(folder.rglob("*")) - before <= {folder, folder / str(actor.partner_id)}  # the folder, no file
    row = await ExportTask.select().where(ExportTask.id == task).first()
    assert row["status"] == "cancelled" and row["file_path"] == ""
    monkeypatch.setattr(exports, "newest_first", batches)

    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    assert (await client.post(f"/api/edrs/exports/{task}/cancel", headers=headers)).status_code == 409
    assert (await client.post(f"/api/edrs/exports/{task}/restart", headers=headers)).json()["status"] == "waiting"
    assert (await finished(client, headers, task))["status"] == "ready"


async def test_expired_files_are_removed_and_foreign_ids_are_404(app, client_for):
    world = await make_world()
    await records(app, world)
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    created = (await client.post("/api/edrs/exports", headers=headers, json={})).json()
    task = await finished(client, headers, created["id"])
    path = Path((await ExportTask.select().where(ExportTask.id == task["id"]).first())["file_path"])
    assert await asyncio.to_thread(path.exists)
    await ExportTask.update({ExportTask.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        ExportTask.id == task["id"]
    )
    assert await exports.remove_expired() == 1
    assert not await asyncio.to_thread(path.exists)
    assert (await client.get(f"/api/edrs/exports/{task['id']}", headers=headers)).json()["status"] == "expired"
    assert (await client.get(f"/api/edrs/exports/{task['id']}/file", headers=headers)).status_code == 404

    world.a.export_id = task["id"]  # type: ignore[attr-defined]
    other = client_for(world.b.host)
    await sign_in(other, world.b.end_user_admin)
    other_headers = await api_token(other, world.b.end_user_admin)
    assert await foreign_id_responses(app, other, world.a, other_headers, only={"export_id"}) == {}
    assert (await other.get("/api/edrs/exports", headers=other_headers)).json()["items"] == []


async def test_pages_show_the_count_first_then_the_task(app, client_for):
    world = await make_world()
    await records(app, world)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    assert "No export yet." in (await client.get("/statistics/exports")).text
    form = await client.get("/statistics/edr/export?date_from=2026-01-01&date_to=")
    assert form.status_code == 200 and "2 records match your filters." in form.text
    refused = await post_form(
        client,
        "/statistics/edr/export",
        {"date_from": "2026-01-01", "date_to": "", "status": "SEEN", "file_format": "csv"},
    )
    assert refused.status_code == 422 and "nothing to export" in refused.text
    made = await post_form(
        client,
        "/statistics/edr/export",
        {"date_from": "2026-01-01", "date_to": "", "columns": ["status", "price"], "file_format": "xlsx"},
    )
    assert made.status_code in (302, 303) and made.headers["location"] == "/statistics/exports"
    listed = (await client.get("/statistics/exports")).text
    assert "XLSX" in listed and world.a.end_user_admin in listed
    campaign = (await Campaign.select(Campaign.id).where(Campaign.name == "Spring").first())["id"]
    link = f"/statistics/edr/export?campaign_id={campaign}&date_from=&date_to="
    assert link in (await client.get(f"/campaigns/{campaign}")).text  # the campaign report's export
    assert "1 record matches your filters." in (await client.get(link)).text


async def test_a_retry_after_a_crash_replaces_the_partial_file_it_left(app):
    world = await make_world()
    await records(app, world)
    actor = await actor_of(world.a)
    portal = app.state.portal
    task = (await ExportTask.insert(_waiting(actor)).returning(ExportTask.id))[0]["id"]
    folder = Path(portal.settings.var_dir) / "exports" / str(actor.partner_id)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    partial = folder / f"{task}-0123456789abcdef.csv"  # what a worker killed mid-file leaves behind
    other = folder / f"{task}0-0123456789abcdef.csv"  # another task's file, whose id starts alike
    await asyncio.to_thread(partial.write_text, "Status\nDELIVE")
    await asyncio.to_thread(other.write_text, "Status\n")
    assert await exports.run_export(portal, task) == "ready"
    row = await ExportTask.select().where(ExportTask.id == task).first()
    assert await asyncio.to_thread(lambda: sorted(folder.glob(f"{task}-*"))) == [Path(row["file_path"])]
    assert await asyncio.to_thread(other.exists)
    assert (await asyncio.to_thread(Path(row["file_path"]).read_text)).splitlines()[0] == "Status"


def _waiting(actor) -> ExportTask:
    return ExportTask(
        partner=actor.partner_id,
        user_id=actor.user_id,
        user_email=actor.email,
        filters={},
        columns=["status"],
        file_format="csv",
        delivery="download",
        status="waiting",
        total=3,
        created_at=datetime.now(UTC),
    )
