"""Bounded integers at the boundary: ids and page numbers the database can hold, so no value overflows into a 500."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter
from msgspec import Meta

MAX_ID = 2**31 - 1  # SERIAL ids and their foreign keys are PostgreSQL `integer`
MAX_BIG_ID = 2**63 - 1  # EDR ids are BIGSERIAL
# Any page past the last is empty; this bound keeps (page - 1) * per_page far inside a 64-bit OFFSET.
MAX_PAGE = 2**31 - 1
MAX_PER_PAGE = 500

# Path ids: a value outside the range names no object, so core.web.errors answers it with a 404.
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
PathBigId = Annotated[int, PathParameter(ge=1, le=MAX_BIG_ID)]
# Query values: outside the range is a 400 naming the parameter.
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
PageNo = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Page number, from 1")]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE, description="Rows per page")]
# The same bounds inside msgspec Structs (bodies and filters): a 400 naming the field.
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Meta(ge=1, le=MAX_PAGE)]
