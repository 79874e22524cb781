"""Benchmark: the campaign preview (recipients, stop list, cost) of a 100,000-contact group, next to raw SQL."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = "postgresql://postgres@127.0.0.1:5432"
ROUNDS = 5
TYPED = 500  # typed numbers of each kind: group members, unknown numbers, contacts outside the group
USAGE = """
  python bench/campaign_preview.py --pg                          # PostgreSQL, database portal_bench (recreated)
  python bench/campaign_preview.py --pg --database test_preview  # another database (recreated)
  python bench/campaign_preview.py                               # embedded SQLite
"""


def configure(pg: bool, database: str) -> None:
    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.pop("PORTAL_PLUGINS", None)
    # The preview needs no shared Redis: the embedded one keeps the benchmark off every teammate's database.
    os.environ.pop("REDIS_URL", None)
    if not pg:
        os.environ.pop("DATABASE_URL", None)
        return
    import asyncpg

    async def recreate() -> None:
        conn = await asyncpg.connect(f"{SERVER}/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await conn.execute(f'CREATE DATABASE "{database}"')
        await conn.close()

    asyncio.run(recreate())
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"


def contact_number(n: int) -> str:
    return f"34607{n:06d}"


async def seed(count: int) -> dict[str, Any]:
    """A company with a plan, two sender IDs and a group of ``count`` contacts, some of them stop-listed.

    In the group, every 50th contact is blocked for all sender IDs, the next one for the campaign's sender ID and
    the one after for the other sender ID (which must not count). The typed numbers: group members, numbers of
    no contact, and contacts outside the group of which every other one is blocked for all sender IDs.
    """
    from bench.shop import sms_shop
    from core import db
    from core.rawsql import RawSql
    from core.senders.schemas import SenderCreate
    from core.senders.services import create_sender

    shop = await sms_shop()
    company, group = shop.company_id, shop.group_id
    other = await create_sender(shop.owner, company, SenderCreate(channel="sms", name="OTHER"))
    now = datetime.now(UTC)
    outside = [f"34609{n:06d}" for n in range(TYPED)]
    columns = (
        "partner",
        "phone",
        "first_name",
        "last_name",
        "gender",
        "comments",
        "custom",
        "blocked_all",
        "created_at",
        "updated_at",
    )
    rows = [(company, contact_number(n), "", "", "", "", "{}", n % 50 == 0, now, now) for n in range(count)]
    rows += [(company, phone, "", "", "", "", "{}", n % 2 == 0, now, now) for n, phone in enumerate(outside)]
    async with db.write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=db.is_sqlite())
        await sql.bulk("contact", columns, rows)
        ids = {r["phone"]: r["id"] for r in await sql.rows("SELECT id, phone FROM contact WHERE partner = $1", company)}
        members = [(ids[contact_number(n)], group) for n in range(count)]
        await sql.bulk("contact_group_member", ("contact", "group"), members)
        blocks = [(ids[contact_number(n)], shop.sender_id) for n in range(1, count, 50)]
        blocks += [(ids[contact_number(n)], other.id) for n in range(2, count, 50)]
        await sql.bulk("contact_block", ("contact", "sender"), blocks)
    if not db.is_sqlite():
        # The contacts were imported long before the campaign: autovacuum has analysed them by now.
        await db.engine().run_ddl("ANALYZE")
    typed = [contact_number(n) for n in range(TYPED)] + [f"34608{n:06d}" for n in range(TYPED)] + outside
    in_group_blocked = sum(1 for n in range(count) if n % 50 in (0, 1))
    return {
        "actor": await shop.actor(),
        "sender_id": shop.sender_id,
        "group": group,
        "typed": typed,
        # (recipients, stop-listed) of the group alone and with the typed numbers
        "expected": {
            "group": (count - in_group_blocked, in_group_blocked),
            "group_and_typed_numbers": (
                count + 2 * TYPED - in_group_blocked - TYPED // 2,
                in_group_blocked + TYPED // 2,
            ),
        },
    }


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1)}


async def measure(pg: bool, count: int) -> dict[str, object]:
    from core.app import create_app
    from core.campaigns.schemas import CampaignCreate
    from core.campaigns.services import cost_preview
    from core.contacts.tables import Contact

    seeded = await seed(count)
    app = create_app(run_worker=False, db_pool=True)
    group = int(seeded["group"])
    members = (
        "SELECT c.phone FROM contact AS c WHERE c.partner = {} AND EXISTS (SELECT 1 FROM contact_group_member AS m"
        f' WHERE m.contact = c.id AND m."group" = {group})'
    )
    cases = {
        "group": CampaignCreate(sender_id=seeded["sender_id"], text="Spring sale: 20% off", group_ids=[group]),
        "group_and_typed_numbers": CampaignCreate(
            sender_id=seeded["sender_id"], text="Spring sale: 20% off", group_ids=[group], numbers=seeded["typed"]
        ),
    }
    results: dict[str, object] = {"engine": "postgresql" if pg else "sqlite", "group_contacts": count}
    async with app.lifespan():
        portal = app.state.portal
        actor = seeded["actor"]
        ours: dict[str, list[float]] = {name: [] for name in cases}
        counted, selected = [], []
        for _ in range(ROUNDS):
            for name, data in cases.items():
                started = time.perf_counter()
                preview = await cost_preview(portal, actor, data)
                ours[name].append(time.perf_counter() - started)
                got = (preview.recipients, preview.stop_listed)
                assert got == seeded["expected"][name], (name, got)
            started = time.perf_counter()
            await Contact.raw(f'SELECT count(*) FROM contact_group_member WHERE "group" = {group}')
            counted.append(time.perf_counter() - started)
            started = time.perf_counter()
            await Contact.raw(members, actor.partner_id)
            selected.append(time.perf_counter() - started)
    for name in cases:
        results[f"preview_{name}"] = summary(ours[name])
    results["baseline_count_members"] = summary(counted)
    results["baseline_select_member_phones"] = summary(selected)
    results["ratio_to_select"] = round(
        results["preview_group"]["median_ms"] / max(results["baseline_select_member_phones"]["median_ms"], 0.1), 1
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", action="store_true", help="PostgreSQL at 127.0.0.1:5432 instead of embedded SQLite")
    parser.add_argument("--database", default="portal_bench", help="the PostgreSQL database to recreate")
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts in the group")
    args = parser.parse_args()
    configure(args.pg, args.database)
    results = asyncio.run(measure(args.pg, args.contacts))
    print(f"engine: {results['engine']}; group of {args.contacts:,} contacts; {ROUNDS} rounds")
    for key, value in results.items():
        if isinstance(value, dict):
            print(f"{key}: median {value['median_ms']} ms, max {value['max_ms']} ms")
    print(f"preview of the group / raw SELECT of its phones: {results['ratio_to_select']}x (target: preview ≤ 1 s)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
