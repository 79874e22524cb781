"""Bounded integers at the boundary: ids the database can hold, so no value overflows into a 500."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter
from msgspec import Meta

MAX_ID = 2**31 - 1  # SERIAL ids and their foreign keys are PostgreSQL `integer`
MAX_BIG_ID = 2**63 - 1  # EDR ids are BIGSERIAL

# Path ids: a value outside the range names no object, so core.web.errors answers it with a 404.
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
PathBigId = Annotated[int, PathParameter(ge=1, le=MAX_BIG_ID)]
# Query values: outside the range is a 400 naming the parameter.
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
# The same bounds inside msgspec Structs (bodies and filters): a 400 naming the field.
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
