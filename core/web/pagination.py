"""The one pagination rule: page and per-page parameters, their bounds, the Page result and the query that fills it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter
from msgspec import Meta
from piccolo.query import Select

# Any page past the last is empty; this bound keeps (page - 1) * per_page far inside a 64-bit OFFSET.
MAX_PAGE = 2**31 - 1
MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 50

# Query parameters (a 400 naming the parameter when outside the range).
PageNo = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Page number, from 1")]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE, description="Rows per page")]
# The same bounds inside msgspec Structs (filters): a 400 naming the field.
PageNumber = Annotated[int, Meta(ge=1, le=MAX_PAGE)]
PerPageNumber = Annotated[int, Meta(ge=1, le=MAX_PER_PAGE)]


def page_from(params: Mapping[str, str], key: str = "page_no") -> int:
    """The page number in a query string a handler reads itself (a form re-shown after an error); else page 1."""
    text = params.get(key, "")
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_PAGE else 1


T = TypeVar("T")
U = TypeVar("U")


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a server-side paginated list."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def with_items(self, items: list[U]) -> Page[U]:
        """The same page holding ``items`` (the rows turned into views)."""
        return Page(items=items, total=self.total, page=self.page, per_page=self.per_page)


async def paginate(query: Select, where: Any = None, *, page: int, per_page: int) -> Page[dict[str, Any]]:
    """One page of ``query`` (its ordering kept) limited by ``where``, with the count of every matching row."""
    count = query.table.count()
    if where is not None:
        count, query = count.where(where), query.where(where)
    total = await count
    rows = await query.limit(per_page).offset((page - 1) * per_page)
    return Page(items=rows, total=total, page=page, per_page=per_page)
