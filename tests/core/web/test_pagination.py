"""The one pagination rule (issue 9, item 2): bounds, the Page result and paginate() over a real table."""

from __future__ import annotations

from core.tenancy.tables import Partner
from core.web.pagination import MAX_PAGE, Page, page_from, paginate
from tests.factories import make_world


def test_page_from_reads_only_page_numbers_in_range():
    assert page_from({"page_no": "3"}) == 3
    for text in ("", "0", "-2", "x", str(MAX_PAGE + 1), "9" * 40):
        assert page_from({"page_no": text}) == 1, text
    assert page_from({}) == 1


def test_pages_and_views():
    page = Page(items=[1, 2], total=5, page=1, per_page=2)
    assert page.pages == 3 and Page(items=[], total=0, page=1, per_page=50).pages == 1
    assert page.with_items(["a", "b"]) == Page(items=["a", "b"], total=5, page=1, per_page=2)


async def test_paginate_counts_every_match_and_keeps_the_order():
    await make_world()
    everyone = await Partner.select(Partner.id).order_by(Partner.id)
    second = await paginate(Partner.select(Partner.id).order_by(Partner.id), page=2, per_page=2)
    assert second.total == len(everyone) and second.items == everyone[2:4]
    resellers = await paginate(Partner.select(Partner.id), Partner.kind == "reseller", page=1, per_page=50)
    assert resellers.total == 2 and len(resellers.items) == 2
    assert (await paginate(Partner.select(), page=1000, per_page=50)).items == []
