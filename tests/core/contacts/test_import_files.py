"""CON-6 files: size, type from content, zip bombs, encodings, delimiters, numbers in spreadsheets, the preview."""

from __future__ import annotations

import io
import zipfile

import pytest

from core.contacts.importing import MAX_FILE_BYTES, cell_text, decode_text, sniff_delimiter
from tests.core.contacts.helpers import DATA, actor_of, contacts_of, import_file, xlsx_bytes
from tests.factories import api_token, make_world, sign_in


async def upload(client, headers, name: str, data: bytes):
    return await client.post("/api/imports", headers=headers, files={"file": (name, data)})


@pytest.fixture
async def api(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    return world, client, await api_token(client, world.a.end_user_admin)


async def test_an_empty_file_is_refused(api):
    _world, client, headers = api
    for data in (b"", b"\n\r\n  \n"):
        response = await upload(client, headers, "contacts.csv", data)
        assert response.status_code == 422 and response.json()["detail"] == "The file is empty"
    only_blank_rows = xlsx_bytes([["", ""], [None, ""]])
    response = await upload(client, headers, "contacts.xlsx", only_blank_rows)
    assert response.status_code == 422 and response.json()["detail"] == "The file has no rows"


async def test_the_type_comes_from_the_content_not_the_extension(api):
    _world, client, headers = api
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    response = await upload(client, headers, "contacts.csv", png)
    assert response.status_code == 422
    assert response.json()["detail"] == "contacts.csv is a PNG image, not a CSV, XLS or XLSX file"
    response = await upload(client, headers, "contacts.xlsx", bytes(range(256)) * 8)
    assert response.status_code == 422 and "not a CSV, XLS or XLSX file" in response.json()["detail"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    response = await upload(client, headers, "contacts.xlsx", archive.getvalue())
    assert response.status_code == 422 and "zip archive but not an Excel workbook" in response.json()["detail"]
    damaged = xlsx_bytes([["Phone"], ["34612345678"]])[:300]
    response = await upload(client, headers, "contacts.xlsx", damaged)
    assert response.status_code == 422 and "damaged" in response.json()["detail"]
    # Text named .xlsx is read as the CSV it is; a workbook named .csv as the workbook it is.
    response = await upload(client, headers, "contacts.xlsx", b"phone\n34612345678\n")
    assert response.status_code == 201 and response.json()["preview"]["kind"] == "csv"
    response = await upload(client, headers, "contacts.csv", xlsx_bytes([["Phone"], [34612345678]]))
    assert response.status_code == 201 and response.json()["preview"]["kind"] == "xlsx"


async def test_files_over_10_mb_are_refused_with_413(api):
    world, client, headers = api
    big = b"phone\n" + b"34612345678\n" * (MAX_FILE_BYTES // 12 + 10)
    response = await upload(client, headers, "big.csv", big)
    assert response.status_code == 413 and "larger than 10 MB" in response.json()["detail"]
    # Far above the limit the server stops reading early; the message is the same.
    response = await upload(client, headers, "huge.csv", big * 3)
    assert response.status_code == 413 and "larger than 10 MB" in response.json()["detail"]
    await sign_in(client, world.a.end_user_admin)
    await client.get("/contacts/import")
    page = await client.post(
        "/contacts/imports", data={"_csrf_token": client.cookies.get("csrftoken")}, files={"file": ("big.csv", big)}
    )
    assert page.status_code == 413 and "larger than 10 MB" in page.text


async def test_a_zip_bomb_disguised_as_xlsx_is_refused(api):
    _world, client, headers = api
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for _ in range(150):
                sheet.write(b"<row>" + b"0" * (1024 * 1024) + b"</row>")
    assert len(archive.getvalue()) < MAX_FILE_BYTES
    response = await upload(client, headers, "contacts.xlsx", archive.getvalue())
    assert response.status_code == 422 and "zip bomb" in response.json()["detail"]


async def test_mixed_and_single_byte_encodings_are_read_and_reported(app, api):
    world, client, headers = api
    mixed = "Phone;First name\n34611111111;José\n".encode() + "34622222222;Иван\n".encode("cp1251")
    response = await upload(client, headers, "mixed.csv", mixed)
    assert response.status_code == 201, response.text
    shown = response.json()["preview"]
    assert shown["encoding"] == "UTF-8" and shown["notice"] == "1 line(s) were not UTF-8 and were read as Windows-1251"
    assert shown["rows"][1:] == [["34611111111", "José"], ["34622222222", "Иван"]]
    actor = await actor_of(world.a)
    done = await import_file(app, actor, mixed)
    assert done["status"] == "done" and done["added"] == 2
    names = {phone: row["first_name"] for phone, row in (await contacts_of(actor.partner_id)).items()}
    assert names["34611111111"] == "José" and names["34622222222"] == "Иван"
    assert decode_text("Фамилия;Иванова\n".encode("cp1251")).encoding == "Windows-1251"
    latin = decode_text("Apellido;Muñoz Peña\n".encode("cp1252"))
    assert latin.encoding == "Windows-1252" and latin.text == "Apellido;Muñoz Peña\n"
    assert decode_text("\ufeffPhone\n".encode()).text == "Phone\n"
    assert decode_text("Phone\tNombre\n".encode("utf-16")).text == "Phone\tNombre\n"


def test_delimiters_and_cells_as_text():
    assert sniff_delimiter("phone;name\n34611111111;Ana\n") == ";"
    assert sniff_delimiter("phone\tname\n34611111111\tAna\n") == "\t"
    assert sniff_delimiter("phone|name\n34611111111|Ana\n") == "|"
    assert sniff_delimiter('phone,name\n34611111111,"Lopez, Ana"\n') == ","
    assert sniff_delimiter("34611111111\n34622222222\n") == ","
    assert cell_text(34612345678.0) == "34612345678"
    assert cell_text(3.5) == "3.5"
    assert cell_text(True) == "true"


async def test_spreadsheet_numbers_keep_their_digits(app, api):
    world, client, headers = api
    actor = await actor_of(world.a)
    workbook = xlsx_bytes(
        [["Phone", "First name"], [34612345678, "Ana"], [491701234567, "Bob"], ["+34 611 000 111", "C"]]
    )
    done = await import_file(app, actor, workbook, "contacts.xlsx")
    assert (done["status"], done["added"], done["invalid"]) == ("done", 3, 0)
    legacy = (DATA / "contacts.xls").read_bytes()
    response = await upload(client, headers, "legacy.xls", legacy)
    assert response.status_code == 201 and response.json()["preview"]["kind"] == "xls"
    assert response.json()["preview"]["rows"][1][0] == "34612345678"
    done = await import_file(app, actor, legacy, "legacy.xls")
    assert (done["status"], done["added"], done["updated"], done["invalid"]) == ("done", 1, 1, 1)
    contacts = await contacts_of(actor.partner_id)
    assert {"34612345678", "491701234567", "34611000111", "34627394815"} <= set(contacts)
    assert contacts["34627394815"]["last_name"] == "Ramírez"


async def test_preview_guesses_the_header_and_the_mapping(api):
    _world, client, headers = api
    data = b"Nombre,Apellido,Tel\xc3\xa9fono,Loyalty level,Notes\nAna,Lopez,+34 611 111 111,Gold,VIP\n"
    shown = (await upload(client, headers, "c.csv", data)).json()["preview"]
    assert shown["has_header"] is True and shown["columns"] == 5
    assert shown["suggested"] == {
        "0": "first_name",
        "1": "last_name",
        "2": "phone",
        "3": "custom.loyalty_level",
        "4": "comments",
    }
    headless = (await upload(client, headers, "c.csv", b"Ana;34611111111\nBob;34622222222\n")).json()["preview"]
    assert headless["has_header"] is False and headless["suggested"] == {"1": "phone"}
    assert len((await upload(client, headers, "c.csv", b"34611111111\n" * 40)).json()["preview"]["rows"]) == 10
