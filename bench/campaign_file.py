"""Benchmark: a campaign from a 300,000-row CSV file (CMP-6), from upload to the first submit and to the last report.

A CSV of 300,000 rows (destination, a text of its own on every third row, a name used as a variable) goes through
the service path the page and the API share: store (type checks, kept file, columns), preview (the whole file read,
priced and stop-list checked), create (the rows written in the creating transaction) and the start; then the engine
sends it to the stand-in SMSC over 4 connections until every EDR is final. It runs in a process of its own so that
its peak memory (getrusage) is its own — ``file_peak_mb`` after the create, ``campaign_peak_mb`` after the sending
too; the same file imported as contacts through the contacts importer runs in another process, for the memory the
issue compares against (``memory_ratio`` = file_peak_mb ÷ import_peak_mb). The raw baseline in the same run: the
file parsed with the stdlib csv module, each number normalised, the rows written with COPY — nothing else.
PostgreSQL + Redis only.
Prints one line per figure and, last, one JSON object.

    python bench/campaign_file.py                 # 300,000 rows; PostgreSQL portal_bench (recreated), Redis db 14
    python bench/campaign_file.py --rows 50000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dispatch import DATABASE, add_connections, configure, run_smsc  # noqa: E402


def campaign_file(rows: int) -> bytes:
    """Destination, message (every third row its own, with the variable) and name; CRLF lines as csv writes them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["destination", "message", "name"])
    for n in range(rows):
        # About 25 bytes a row: 300,000 rows stay under the 10 MB upload limit.
        writer.writerow([f"34607{n:06d}", "Ready, {name}" if n % 3 == 0 else "", f"C{n}"])
    return out.getvalue().encode()


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def _campaign(data: bytes, rows: int, port: int) -> dict[str, float]:
    from bench.shop import RATE, sms_shop
    from core.app import create_app
    from core.campaigns import from_file
    from core.campaigns.schemas import CampaignCreate
    from core.campaigns.services import cost_preview, create_campaign
    from core.campaigns.tables import Campaign
    from core.dispatch.tables import CampaignBatch
    from core.tenancy.tables import Partner

    shop = await sms_shop()
    await Partner.update({Partner.balance: rows * RATE * 4}).where(Partner.id == shop.company_id)
    await add_connections(port)
    actor = await shop.actor()
    app = create_app(run_worker=True, db_pool=True)
    figures: dict[str, float] = {}
    async with app.lifespan():
        portal = app.state.portal
        started = time.perf_counter()
        upload = await from_file.store(actor, "campaign.csv", data, portal.settings.var_dir)
        figures["store_s"] = time.perf_counter() - started
        spec = CampaignCreate(sender_id=shop.sender_id, text="Hello {name}, 20% off today", file=upload.file)
        mark = time.perf_counter()
        preview = await cost_preview(portal, actor, spec)
        figures["preview_s"] = time.perf_counter() - mark
        assert preview.recipients == rows and preview.invalid == 0, preview
        mark = time.perf_counter()
        campaign = await create_campaign(portal, actor, spec)
        figures["create_s"] = time.perf_counter() - mark
        figures["file_peak_mb"] = peak_mb()  # upload, preview and create: what the file itself needed
        first_submit = None
        while True:
            row = await Campaign.select().where(Campaign.id == campaign.id).first()
            now = time.perf_counter() - started
            if first_submit is None and await CampaignBatch.exists().where(
                (CampaignBatch.campaign == campaign.id) & CampaignBatch.state.is_in(["submitting", "done"])
            ):
                first_submit = now
            if row["status"] in ("completed", "failed", "paused"):
                break
            await asyncio.sleep(0.05)
        final = time.perf_counter() - started
        assert row["status"] == "completed" and row["delivered"] == rows, row
    figures["first_submit_s"] = first_submit or final
    figures["all_final_s"] = final
    figures["msgs_per_s"] = rows / max(final - (first_submit or 0), 1e-9)
    figures["campaign_peak_mb"] = peak_mb()
    return figures


async def _contacts(data: bytes) -> dict[str, float]:
    from bench.shop import sms_shop
    from core.app import create_app
    from core.contacts.imports import create_import, run_import, start_import
    from core.contacts.schemas import ImportStart

    shop = await sms_shop()
    actor = await shop.actor()
    app = create_app(run_worker=False, db_pool=True)
    async with app.lifespan():
        portal = app.state.portal
        started = time.perf_counter()
        uploaded = await create_import(actor, "contacts.csv", data, var_dir=portal.settings.var_dir)
        options = ImportStart(mapping={0: "phone", 2: "first_name"}, has_header=True, new_group="From the file")
        await start_import(actor, portal, uploaded.import_.id, options)
        summary = await run_import(portal, uploaded.import_.id)
        assert not summary.startswith(("failed", "not queued")), summary
        elapsed = time.perf_counter() - started
    return {"import_s": elapsed, "import_peak_mb": peak_mb()}


def child(kind: str, rows: int, port: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One measurement in a fresh process; the shop is created in a database of its own (see main)."""
    data = campaign_file(rows)
    work = _campaign(data, rows, port) if kind == "campaign" else _contacts(data)
    queue.put(asyncio.run(work))


async def baseline(data: bytes) -> float:
    """The floor: parse, normalise, COPY the rows into a table shaped like campaign_number; nothing else."""
    import asyncpg

    from core.numbering.normalise import normalise

    conn = await asyncpg.connect(DATABASE)
    await conn.execute("CREATE TEMP TABLE floor (campaign int, phone varchar(15), text text, fields text)")
    started = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    next(reader)
    records = [(1, normalise(phone), text or None, json.dumps({"name": name})) for phone, text, name in reader]
    await conn.copy_records_to_table("floor", records=records, columns=["campaign", "phone", "text", "fields"])
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    port = 23950
    smsc = spawn.Process(target=run_smsc, args=(port, ready), daemon=True)
    smsc.start()
    ready.wait(30)
    results: dict[str, float] = {"rows": args.rows}
    try:
        for kind in ("contacts", "campaign"):
            configure(sqlite=False)  # a fresh database and Redis db for each measurement
            queue = spawn.Queue()
            worker = spawn.Process(target=child, args=(kind, args.rows, port, queue))
            worker.start()
            results.update(queue.get(timeout=1800))
            worker.join()
        results["baseline_s"] = asyncio.run(baseline(campaign_file(args.rows)))
    finally:
        smsc.terminate()
    results = {k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}
    results["create_ratio"] = round(results["baseline_s"] / results["create_s"], 3)
    results["memory_ratio"] = round(results["file_peak_mb"] / results["import_peak_mb"], 3)
    for key, value in results.items():
        print(f"{key:>20}: {value}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
