"""Benchmark: Admin Panel list requests over a large partner tree, next to the raw SQL they wrap.

Seeds 20,000 end-user partners under one reseller, then times the scoped, filtered partner list through the
whole app (host → portal, bearer token → actor, scoping, msgspec/Jinja) and the same two SQL statements run
raw on the same engine. Prints one line per figure and, last, one JSON object.

    python bench/admin_requests.py            # embedded SQLite under a temporary var/ directory
    python bench/admin_requests.py --pg       # PostgreSQL at 127.0.0.1:5432, database portal_bench (recreated)
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PARTNERS = 20_000
ROUNDS = 300


def configure(pg: bool) -> None:
    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.pop("REDIS_URL", None)
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


async def seed() -> str:
    from datetime import UTC, datetime

    from core import db
    from core.accounts.bootstrap import create_owner
    from core.accounts.schemas import UserCreate
    from core.tenancy.schemas import PartnerCreate, PortalCreate
    from core.tenancy.services import create_partner, create_portal
    from core.tenancy.tables import Partner

    await db.migrate()
    owner = await create_owner(
        "Bench Owner", "EUR", UserCreate(email="bench@x.test", first_name="B", last_name="O", password="bench-password")
    )
    await create_portal(owner, PortalCreate(slug="bench", brand_name="Bench", hosts=["bench.test"]))
    reseller = await create_partner(owner, PartnerCreate(name="Big Reseller", kind="reseller"))
    parent = await Partner.select(Partner.path).where(Partner.id == reseller.id).first()
    now = datetime.now(UTC)
    async with db.write_transaction():
        rows = [
            Partner(name=f"Shop {i:05d}", kind="end_user", parent=reseller.id, path="", created_at=now)
            for i in range(PARTNERS)
        ]
        for start in range(0, len(rows), 2_000):
            await Partner.insert(*rows[start : start + 2_000])
    # Paths need the ids the database gave out, zero-padded as core.tenancy.scope.path_segment writes them.
    padded = "substr('0000000000' || id, -10, 10)" if db.is_sqlite() else "lpad(id::text, 10, '0')"
    await Partner.raw(
        f"UPDATE partner SET path = {{}} || {padded} || '/' WHERE parent = {{}}", parent["path"], reseller.id
    )
    return owner.partner_path


def timed(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(sorted(samples)[int(len(samples) * 0.95)] * 1000, 3),
    }


async def measure(pg: bool) -> dict[str, object]:
    import base64

    import httpx

    from core import db
    from core.app import create_app
    from core.tenancy.tables import Partner

    owner_path = await seed()
    app = create_app(run_worker=True, db_pool=True)
    results: dict[str, object] = {"engine": "postgresql" if pg else "sqlite", "partners": PARTNERS + 2}
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bench.test") as client:
            basic = base64.b64encode(b"bench@x.test:bench-password").decode()
            token = (await client.post("/api/auth/login", headers={"Authorization": f"Basic {basic}"})).json()
            headers = {"Authorization": f"Bearer {token['token']}"}

            async def run(url: str) -> list[float]:
                samples = []
                for i in range(ROUNDS):
                    started = time.perf_counter()
                    response = await client.get(url.format(i=i % 200), headers=headers)
                    samples.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
                return samples

            filtered = await run("/api/admin/partners?q=Shop%20{i:03d}&per_page=50")
            deep = await run("/api/admin/partners?page=300&per_page=50")

            like = "LIKE" if db.is_sqlite() else "ILIKE"

            async def raw(i: int) -> None:
                pattern = f"%Shop {i % 200:03d}%"
                await Partner.raw(
                    f"SELECT count(*) FROM partner WHERE path LIKE {{}} AND name {like} {{}}", owner_path + "%", pattern
                )
                await Partner.raw(
                    f"SELECT * FROM partner WHERE path LIKE {{}} AND name {like} {{}} ORDER BY path LIMIT 50 OFFSET 0",
                    owner_path + "%",
                    pattern,
                )

            baseline = []
            for i in range(ROUNDS):
                started = time.perf_counter()
                await raw(i)
                baseline.append(time.perf_counter() - started)

    results["filtered_list"] = timed(filtered)
    results["deep_page"] = timed(deep)
    results["baseline_raw_sql"] = timed(baseline)
    results["ratio"] = round(results["baseline_raw_sql"]["median_ms"] / results["filtered_list"]["median_ms"], 3)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="run on PostgreSQL (database portal_bench)")
    args = parser.parse_args()
    configure(args.pg)
    results = asyncio.run(measure(args.pg))
    print(f"engine: {results['engine']}, partners in the tree: {results['partners']}")
    print(f"filtered partner list through the app: {results['filtered_list']}")
    print(f"deep page (page 300) through the app:  {results['deep_page']}")
    print(f"raw SQL of the filtered list (baseline): {results['baseline_raw_sql']}")
    print(f"ratio (baseline time / app time): {results['ratio']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
