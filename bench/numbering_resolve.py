"""Prefix → network resolution (NUM-3): resolutions per second for 1,000,000 numbers, next to a raw baseline.

The index is built from the shipped seed book without a database (the same PrefixIndex the dispatch engine
gets from ``prefix_index()``). The baseline is one dict lookup of a fixed-length slice per number, the least
any prefix lookup can cost in Python.
"""

from __future__ import annotations

import random
import time

from core.numbering.book import parse_book
from core.numbering.services import SEED_CSV, Destination, PrefixIndex

N = 1_000_000


def build_index() -> PrefixIndex:
    entries: dict[str, Destination] = {}
    for c in parse_book(SEED_CSV.read_bytes()):
        all_networks = c.networks[0]
        entries.setdefault(c.dial_code, Destination(c.iso, c.name, all_networks.mcc, "", all_networks.name))
        for n in c.networks:
            for p in n.prefixes:
                entries[p] = Destination(c.iso, c.name, n.mcc, n.mnc, n.name)
    return PrefixIndex(entries, "bench")


def numbers(index: PrefixIndex) -> list[str]:
    rng = random.Random(7)
    prefixes = [p for _, table in index._levels for p in table]
    # Mostly network prefixes, some country-only (All networks) and some unknown countries.
    out = []
    for _ in range(N):
        roll = rng.random()
        head = rng.choice(prefixes) if roll < 0.9 else ("86" if roll < 0.95 else "3491")
        out.append((head + "".join(rng.choices("0123456789", k=12)))[:12])
    return out


def main() -> None:
    index = build_index()
    batch = numbers(index)
    start = time.perf_counter()
    resolve = index.resolve
    found = sum(1 for n in batch if resolve(n) is not None)
    elapsed = time.perf_counter() - start
    table = {n[:5]: 1 for n in batch[:1000]}
    base_start = time.perf_counter()
    get = table.get
    for n in batch:
        get(n[:5])
    baseline = time.perf_counter() - base_start
    print(f"resolve(): {N / elapsed:,.0f} numbers/s ({found:,} of {N:,} resolved, {index.size} prefixes)")
    print(f"raw one-dict baseline: {N / baseline:,.0f} lookups/s; ratio {elapsed / baseline:.1f}x")


if __name__ == "__main__":
    main()
