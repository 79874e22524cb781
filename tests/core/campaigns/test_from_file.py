"""Campaign from file (CMP-6): upload, roles of the columns, details with invalid rows, per-row texts sent through
the real engine and stand-in SMSC; the page and the API; another company's file id finds nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core.campaigns import from_file
from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import cost_preview, create_campaign
from core.campaigns.tables import Campaign, CampaignNumber
from core.dispatch.tables import Edr
from core.errors import InvalidInput
from tests.core.contacts.helpers import actor_of
from tests.core.dispatch.conftest import SmsWorld, wait_for_status
from tests.factories import make_world, post_form, sign_in

ROWS = (
    "Destination,Message,Name\n"
    "34607000001,Your code is {name},Ana\n"
    "34607000002,,Luis\n"
    "12,Hi,Too short\n"
    ",Hi,No number\n"
    "+34 607 000 001,Again,Ana\n"
    "34607000003,Привет {name},Иван\n"
).encode()


def _var_dir(app) -> str:
    return app.state.portal.settings.var_dir


async def test_each_row_gets_its_own_text_and_invalid_rows_are_named_and_left_out(app, sms: SmsWorld):
    portal = app.state.portal
    upload = await from_file.store(sms.actor, "spring.csv", ROWS, _var_dir(app))
    assert [(c.title, c.variable, c.role) for c in upload.columns] == [
        ("Destination", "destination", "destination"),
        ("Message", "message", "text"),
        ("Name", "name", "variable"),
    ]
    assert upload.has_header and upload.columns[0].samples == ["34607000001", "34607000002", "12"]
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hello {name}", file=upload.file)

    preview = await cost_preview(portal, sms.actor, data)
    assert (preview.recipients, preview.invalid, preview.duplicates) == (3, 2, 1)
    assert [(r.line, r.value) for r in preview.invalid_rows] == [(4, "12"), (5, "")]
    assert "No destination number" in preview.invalid_rows[1].reason
    # Three messages of one part, except the Cyrillic one: UCS-2, still one part.
    assert sum(line.parts for line in preview.lines) == 3

    created = await create_campaign(portal, sms.actor, data)
    done = await wait_for_status(created.id, {"completed", "failed", "paused"})
    assert (done["status"], done["sent"], done["delivered"]) == ("completed", 3, 3)
    texts = {r["destination"]: r["text"] for r in await Edr.select(Edr.destination, Edr.text)}
    assert texts == {
        "34607000001": "Your code is Ana",
        "34607000002": "Hello Luis",
        "34607000003": "Привет Иван",
    }
    assert sum(sms.smsc.submitted.values()) == 3 and max(sms.smsc.submitted.values()) == 1
    # The kept file is gone once the campaign holds its rows.
    assert not any((Path(_var_dir(app)) / from_file.UPLOADS / str(sms.tenant.end_user_id)).iterdir())


async def test_a_file_row_becomes_a_ucs2_message_of_two_parts_when_long_and_cyrillic(app, sms: SmsWorld):
    long = "Привет " * 12  # 84 characters of UCS-2: two parts (67 characters each when split)
    upload = await from_file.store(sms.actor, "long.csv", f"phone,text\n34607000009,{long}\n".encode(), _var_dir(app))
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text="", file=upload.file)
    preview = await cost_preview(app.state.portal, sms.actor, data)
    assert preview.recipients == 1 and preview.lines[0].parts == 2


@pytest.mark.parametrize(
    ("roles", "text", "field", "words"),
    [
        (["", "text", "variable"], "Hi", "file_columns", "destination"),
        (["destination", "text", "text"], "Hi", "file_columns", "both"),
        (["destination", "variable", "variable"], "", "text", "message text"),
        (["destination", "sideways", ""], "Hi", "file_columns", "unknown role"),
        (["destination", "", "", ""], "Hi", "file_columns", "3 columns"),
        (["destination", "variable", "variable"], "Hi {surname}", "text", "{surname}"),
    ],
)
async def test_wrong_roles_are_refused_naming_the_field(app, sms: SmsWorld, roles, text, field, words):
    upload = await from_file.store(sms.actor, "spring.csv", ROWS, _var_dir(app))
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text=text, file=upload.file, file_columns=roles)
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(app.state.portal, sms.actor, data)
    assert refused.value.field == field and words in refused.value.detail
    assert not await Campaign.exists().where(Campaign.partner == sms.tenant.end_user_id)


async def test_a_file_with_no_valid_row_creates_nothing_and_other_recipients_do_not_mix(app, sms: SmsWorld):
    portal = app.state.portal
    upload = await from_file.store(sms.actor, "bad.csv", b"phone,text\n12,Hi\n999,Hi\n", _var_dir(app))
    data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", file=upload.file)
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(portal, sms.actor, data)
    assert refused.value.field == "file" and "No row of the file" in refused.value.detail
    assert not await Campaign.exists().where(Campaign.partner == sms.tenant.end_user_id)
    assert not await CampaignNumber.exists()
    mixed = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", file=upload.file, numbers=["34607000001"])
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(portal, sms.actor, mixed)
    assert refused.value.field == "file"


async def test_another_companys_file_id_finds_nothing(app, sms: SmsWorld):
    other = await actor_of(sms.world.b)
    theirs = await from_file.store(other, "theirs.csv", ROWS, _var_dir(app))
    for file_id in (theirs.file, "../" + theirs.file, "0" * 32):
        data = CampaignCreate(sender_id=sms.tenant.sender_id, text="Hi", file=file_id)
        with pytest.raises(InvalidInput) as refused:
            await cost_preview(app.state.portal, sms.actor, data)
        assert refused.value.field == "file" and "upload it again" in refused.value.detail


async def test_the_page_uploads_maps_shows_details_and_creates(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    assert 'href="/campaigns/from-file"' in (await client.get("/campaigns")).text
    page = await client.get("/campaigns/from-file")
    assert page.status_code == 200 and "/campaigns/from-file/sample.csv?channel=sms" in page.text
    sample = await client.get("/campaigns/from-file/sample.csv?channel=sms")
    assert sample.headers["content-type"].startswith("text/csv") and sample.text.startswith("destination,message")

    form = {
        "name": "From a file",
        "channel": "sms",
        "sender_id": str(world.a.sender_id),
        "text": "Hello {name}",
        "send_mode": "now",
        "timezone": "Europe/Madrid",
        "command": "upload",
        "_csrf_token": client.cookies["csrftoken"],
    }
    csv = "Phone,Message,Name\n+34612345678,,Ana\n+34612345679,Own text,Bo\n+34612345678,,Ana again\n12,,Cy\n"
    uploaded = await client.post("/campaigns/from-file", data=form, files={"upload": ("list.csv", csv, "text/csv")})
    assert uploaded.status_code == 200, uploaded.text[-800:]
    assert 'data-testid="file-preview"' in uploaded.text and "list.csv" in uploaded.text
    file_id = uploaded.text.split('name="file" value="')[1].split('"')[0]
    assert len(file_id) == 32

    mapped = {**form, "file": file_id, "role": ["destination", "text", "variable"]}
    twice = await post_form(
        client, "/campaigns/from-file", {**mapped, "command": "details", "role": ["destination"] * 3}
    )
    assert twice.status_code == 422 and "both Destination number" in twice.text
    details = await post_form(client, "/campaigns/from-file", {**mapped, "command": "details"})
    assert details.status_code == 200, details.text[-800:]
    shown = details.text[details.text.index('data-testid="file-details"') :]
    assert "2 contacts" in shown and "1 row repeats an earlier destination" in shown and "Line 5" in shown

    created = await post_form(client, "/campaigns/from-file", {**mapped, "command": "create"})
    assert created.status_code in (302, 303), created.text[-800:]
    row = await Campaign.select().where(Campaign.name == "From a file").first()
    assert row is not None and row["partner"] == world.a.end_user_id
    numbers = await CampaignNumber.select(CampaignNumber.phone, CampaignNumber.text).where(
        CampaignNumber.campaign == row["id"]
    )
    assert sorted((n["phone"], n["text"]) for n in numbers) == [("34612345678", None), ("34612345679", "Own text")]
    again = await post_form(client, "/campaigns/from-file", {**mapped, "command": "create"})
    assert again.status_code == 422 and "upload it again" in again.text  # the file went with the first campaign


async def test_the_api_uploads_a_file_and_creates_the_campaign_from_it(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = {"Authorization": f"Bearer {world.a.api_key}"}
    files = {"file": ("list.csv", io.BytesIO(b"msisdn;text\n34612345678;Hi there\n34612345679;\n"), "text/csv")}
    uploaded = await client.post("/api/campaigns/files", files=files, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert [c["role"] for c in body["columns"]] == ["destination", "text"]
    campaign = {
        "name": "API file",
        "sender_id": world.a.sender_id,
        "text": "Default text",
        "file": body["file"],
        "file_columns": ["destination", "text"],
        "send_at": "2099-01-01T10:00:00+00:00",
    }
    other = client_for(world.b.host)
    foreign = await other.post(
        "/api/campaigns",
        json={**campaign, "sender_id": world.b.sender_id},
        headers={"Authorization": f"Bearer {world.b.api_key}"},
    )
    assert foreign.status_code == 422 and "upload it again" in foreign.json()["detail"]
    created = await client.post("/api/campaigns", json=campaign, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "scheduled"
    numbers = await CampaignNumber.select(CampaignNumber.phone, CampaignNumber.text).where(
        CampaignNumber.campaign == created.json()["id"]
    )
    assert sorted((n["phone"], n["text"]) for n in numbers) == [("34612345678", "Hi there"), ("34612345679", None)]
