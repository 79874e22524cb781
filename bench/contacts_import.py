"""Benchmark: importing 300,000 contacts from CSV and XLSX end to end, next to a raw parse + COPY of the same rows.

Generates 300,000 contacts (phone, first and last name, gender) as a CSV and an XLSX file of about 10 MB each, then
imports each through the whole app on PostgreSQL — REST upload (type and size checks, stored file, preview), start,
the saq job (parse, normalise, dedupe, COPY into a staging table, set-based inserts, group membership) — and times
it until the import's status is done; then the CSV once more into the same company, where every number exists.
The baseline, measured in the same run on the same table, is the file parsed with the stdlib csv module (or
python-calamine) and the rows written with asyncpg COPY, nothing else. Peak memory is the process's maximum
resident set after the imports (getrusage), before the baseline runs. Prints one line per figure and, last, one
JSON object.

    python bench/contacts_import.py      # PostgreSQL at 127.0.0.1:5432, database portal_bench (recreated)
    python bench/contacts_import.py --without-trigram-indexes   # the same on contact without its three GIN
                                                                # indexes, to see what they cost every insert
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = 300_000
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "postgresql://postgres@127.0.0.1:5432/portal_bench"
FIRST = ["Maria", "Jose", "Ana", "Juan", "Lucia", "Carlos", "Sofia", "Javier", "Elena", "David", "Laura", "Pablo"]
LAST = ["Garcia", "Fernandez", "Gonzalez", "Rodriguez", "Lopez", "Martinez", "Sanchez", "Perez", "Gomez", "Martin"]


def configure() -> Path:
    import asyncpg

    async def recreate() -> None:
        conn = await asyncpg.connect(ADMIN)
        await conn.execute("DROP DATABASE IF EXISTS portal_bench")
        await conn.execute("CREATE DATABASE portal_bench")
        await conn.close()

    asyncio.run(recreate())
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    os.environ["PORTAL_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = DATABASE
    os.environ.pop("REDIS_URL", None)
    return var_dir


def contacts() -> list[tuple[int, str, str, str]]:
    """300,000 distinct Spanish mobile numbers with names; the same rows for every file and the baseline."""
    pick = random.Random(7)
    numbers = pick.sample(range(600_000_000, 700_000_000), ROWS)
    return [(34_000_000_000 + n, pick.choice(FIRST), pick.choice(LAST), pick.choice("fm")) for n in numbers]


def write_files(directory: Path, rows: list[tuple[int, str, str, str]]) -> tuple[Path, Path]:
    import xlsxwriter

    csv_path = directory / "contacts.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Phone", "First name", "Last name", "Gender"])
        writer.writerows(rows)
    xlsx_path = directory / "contacts.xlsx"
    book = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Phone", "First name", "Last name", "Gender"])
    for number, (phone, first, last, gender) in enumerate(rows, start=1):
        sheet.write_number(number, 0, phone)  # as a spreadsheet holds phone numbers typed in: a number
        sheet.write_string(number, 1, first)
        sheet.write_string(number, 2, last)
        sheet.write_string(number, 3, gender)
    book.close()
    return csv_path, xlsx_path


async def seed(without_trigram: bool) -> list[str]:
    """An owner, a portal and three end-user companies (one per measured import), each with its admin."""
    from core import db
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.accounts.services import create_user
    from core.tenancy.schemas import PartnerCreate, PortalCreate
    from core.tenancy.services import create_partner, create_portal

    await db.migrate()
    if without_trigram:
        for column in ("phone", "first_name", "last_name"):
            await db.engine().run_ddl(f"DROP INDEX contact_{column}_trgm")
    owner = await create_owner(
        "Bench Owner", "EUR", UserCreate(email="bench@x.test", first_name="B", last_name="O", password="bench-password")
    )
    portal = await create_portal(owner, PortalCreate(slug="bench", brand_name="Bench", hosts=["bench.test"]))
    emails = []
    for name in ("csv", "xlsx", "baseline"):
        company = await create_partner(owner, PartnerCreate(name=f"Shop {name}", kind="end_user", portal_id=portal.id))
        email = f"{name}@shop.test"
        user = UserCreate(email=email, first_name="A", last_name="B", password="bench-password")
        await create_user(owner, company.id, user)
        emails.append(email)
    return emails


async def import_through_the_api(client, email: str, name: str, data: bytes) -> tuple[float, dict]:
    import base64

    basic = base64.b64encode(f"{email}:bench-password".encode()).decode()
    token = (await client.post("/api/auth/login", headers={"Authorization": f"Basic {basic}"})).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    uploaded = await client.post("/api/imports", headers=headers, files={"file": (name, data)})
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    import_id = body["import"]["id"]
    options = {"mapping": body["preview"]["suggested"], "has_header": True, "new_group": f"Import of {name}"}
    response = await client.post(f"/api/imports/{import_id}/start", headers=headers, json=options)
    assert response.status_code == 202, response.text
    while True:
        view = (await client.get(f"/api/imports/{import_id}", headers=headers)).json()
        if view["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    assert view["status"] == "done" and view["added"] + view["updated"] == ROWS, view
    return elapsed, view


async def baseline(data: bytes, partner_id: int, kind: str) -> float:
    """The floor: read the file (stdlib csv or calamine), build the rows, COPY them into contact; nothing else."""
    import asyncpg
    from python_calamine import CalamineWorkbook

    conn = await asyncpg.connect(DATABASE)
    await conn.execute("DELETE FROM contact WHERE partner = $1", partner_id)
    started = time.perf_counter()
    now = datetime.now(UTC)
    if kind == "csv":
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
        next(reader)
        cells = list(reader)
    else:
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).iter_rows()
        next(rows)
        cells = [[str(int(r[0])), r[1], r[2], r[3]] for r in rows]
    records = [(partner_id, p, f, la, g, "", "{}", False, now, now) for p, f, la, g in cells]
    columns = ["partner", "phone", "first_name", "last_name", "gender", "comments", "custom", "blocked_all"]
    await conn.copy_records_to_table("contact", records=records, columns=[*columns, "created_at", "updated_at"])
    elapsed = time.perf_counter() - started
    await conn.execute("DELETE FROM contact WHERE partner = $1", partner_id)
    await conn.close()
    return elapsed


async def measure(csv_data: bytes, xlsx_data: bytes, without_trigram: bool) -> dict[str, object]:
    import httpx

    from core.accounts.tables import User
    from core.app import create_app

    emails = await seed(without_trigram)
    app = create_app(run_worker=True, db_pool=True)
    results: dict[str, object] = {"rows": ROWS, "trigram_indexes": not without_trigram}
    results["csv_mb"] = round(len(csv_data) / 2**20, 2)
    results["xlsx_mb"] = round(len(xlsx_data) / 2**20, 2)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bench.test", timeout=120) as client:
            results["csv_s"], _ = await import_through_the_api(client, emails[0], "contacts.csv", csv_data)
            results["xlsx_s"], _ = await import_through_the_api(client, emails[1], "contacts.xlsx", xlsx_data)
            # The same file again: every number exists now, so each one is looked up and updated.
            results["csv_again_s"], again = await import_through_the_api(client, emails[0], "again.csv", csv_data)
            assert again["updated"] == ROWS, again
    results["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    partner = (await User.select(User.partner).where(User.email == emails[2]).first())["partner"]
    results["baseline_csv_s"] = await baseline(csv_data, partner, "csv")
    results["baseline_xlsx_s"] = await baseline(xlsx_data, partner, "xlsx")
    for key in ("csv_s", "xlsx_s", "csv_again_s", "baseline_csv_s", "baseline_xlsx_s"):
        results[key] = round(results[key], 3)  # type: ignore[call-overload]
    results["ratio"] = round(results["baseline_csv_s"] / results["csv_s"], 3)  # type: ignore[operator]
    results["ratio_xlsx"] = round(results["baseline_xlsx_s"] / results["xlsx_s"], 3)  # type: ignore[operator]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--without-trigram-indexes", action="store_true", help="drop contact's GIN indexes of the contains filters"
    )
    args = parser.parse_args()
    var_dir = configure()
    csv_path, xlsx_path = write_files(var_dir, contacts())
    results = asyncio.run(measure(csv_path.read_bytes(), xlsx_path.read_bytes(), args.without_trigram_indexes))
    indexes = "with" if results["trigram_indexes"] else "WITHOUT"
    print(f"contacts: {results['rows']:,}; CSV {results['csv_mb']} MB, XLSX {results['xlsx_mb']} MB")
    print(f"contact table {indexes} its three trigram (GIN) indexes")
    print(f"CSV import end to end:  {results['csv_s']} s (target ≤ 8 s)")
    print(f"XLSX import end to end: {results['xlsx_s']} s (target ≤ 10 s)")
    print(f"the CSV again, every number already a contact: {results['csv_again_s']} s")
    print(f"baseline, csv parse + COPY:      {results['baseline_csv_s']} s")
    print(f"baseline, calamine parse + COPY: {results['baseline_xlsx_s']} s")
    print(f"ratio (baseline time / import time): CSV {results['ratio']}, XLSX {results['ratio_xlsx']} (target ≥ 0.4)")
    print(f"peak memory of the process after both imports: {results['peak_mb']} MB (target ≤ 400 MB)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
