"""Benchmark: the contacts table over 1,000,000 contacts of one partner, next to the raw SQL it runs.

Times a filtered page (the service: WHERE + count + page + groups/blocks of the page) for the filters people
use, and the same statements raw on the same engine. Target: a filtered page in ≤ 200 ms.

    python bench/contacts_page.py --pg        # PostgreSQL at 127.0.0.1:5432, database portal_bench (recreated)
    python bench/contacts_page.py             # embedded SQLite (slower to seed)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROUNDS = 20


def configure(pg: bool) -> None:
    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    if pg:
        import asyncpg

        async def recreate() -> None:
            conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await conn.execute("DROP DATABASE IF EXISTS portal_bench")
            await conn.execute("CREATE DATABASE portal_bench")
            await conn.close()

        asyncio.run(recreate())
        os.environ["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:5432/portal_bench"
    else:
        os.environ.pop("DATABASE_URL", None)


async def seed(count: int) -> tuple[object, int]:
    from core import db
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.contacts.groups import create_group
    from core.contacts.schemas import GroupIn

    await db.migrate()
    actor = await create_owner(
        "Bench", "EUR", UserCreate(email="b@x.test", first_name="B", last_name="O", password="bench-password-1")
    )
    group = await create_group(actor, GroupIn(name="Everyone"))
    engine = db.engine()
    names = ["Ana", "Ben", "Carla", "David", "Elena", "Farid", "Gita", "Hugo", "Irina", "Jon"]
    if not db.is_sqlite():
        # Set-based seeding: the benchmark measures reading, not loading.
        await engine.run_ddl(
            f"INSERT INTO contact (partner, phone, first_name, last_name, comments, custom, blocked_all, gender, "
            f"created_at, updated_at) SELECT {actor.partner_id}, (34600000000 + g)::text, "
            f"(ARRAY{names})[1 + g % 10] || g, 'Surname' || (g % 1000), '', '{{}}', false, '', "
            f"now() - (g || ' seconds')::interval, now() FROM generate_series(1, {count}) AS g"
        )
        await engine.run_ddl(f'INSERT INTO contact_group_member (contact, "group") SELECT id, {group.id} FROM contact')
        await engine.run_ddl("ANALYZE")
    else:
        from core.contacts.tables import Contact, ContactGroupMember

        async with db.write_transaction():
            batch = []
            for g in range(1, count + 1):
                batch.append(
                    Contact(
                        partner=actor.partner_id,
                        phone=str(34600000000 + g),
                        first_name=f"{names[g % 10]}{g}",
                        last_name=f"Surname{g % 1000}",
                        created_at=db_now(g),
                        updated_at=db_now(0),
                    )
                )
                if len(batch) == 5000:
                    await Contact.insert(*batch)
                    batch = []
            if batch:
                await Contact.insert(*batch)
        await engine.run_ddl(f'INSERT INTO contact_group_member (contact, "group") SELECT id, {group.id} FROM contact')
        await ContactGroupMember.count()
    return actor, group.id


def db_now(seconds_ago: int):
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(seconds=seconds_ago)


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1)}


async def measure(pg: bool, count: int) -> dict[str, object]:
    from core.contacts.schemas import ContactFilter
    from core.contacts.services import contact_where, list_contacts
    from core.contacts.tables import Contact

    actor, group_id = await seed(count)
    today = date.today()
    cases = {
        "newest_page": ContactFilter(),
        "first_name_contains": ContactFilter(first_name="Elena12"),
        "phone_contains": ContactFilter(phone="346001234"),
        "group_and_created_today": ContactFilter(group_id=group_id, created_from=today, created_to=today, per_page=50),
        "last_name_sorted_page_100": ContactFilter(last_name="Surname7", sort="phone", descending=False, page=100),
    }
    results: dict[str, object] = {"engine": "postgresql" if pg else "sqlite", "contacts": count}
    for name, f in cases.items():
        ours, raw = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            await list_contacts(actor, f)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            where = contact_where(actor, f, set())
            await Contact.count().where(where)
            await (
                Contact.select(Contact.id)
                .where(where)
                .order_by(getattr(Contact, f.sort), ascending=not f.descending)
                .limit(f.per_page)
                .offset((f.page - 1) * f.per_page)
            )
            raw.append(time.perf_counter() - started)
        results[name] = {"service": summary(ours), "baseline_raw_sql": summary(raw)}
    slowest = max(v["service"]["median_ms"] for k, v in results.items() if isinstance(v, dict))
    results["slowest_median_ms"] = slowest
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    args = parser.parse_args()
    configure(args.pg)
    results = asyncio.run(measure(args.pg, args.contacts))
    for key, value in results.items():
        print(f"{key}: {value}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
