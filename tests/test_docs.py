"""docs/api.md documents exactly the API the app serves: every path and method of the OpenAPI schema, no more.

The API is every path of the schema under ``/api/`` plus ``/healthz``; the HTML pages are kept out of the schema
(``include_in_schema = False``), and any other path that appears there is not part of the documented API.
An endpoint counts as documented when a row of an endpoint table in docs/api.md names it: the first cell holds
its method (several as ``GET / POST``), the second its path in backticks. A query string (``?number=``) and a
trailing slash are ignored, and path parameters match whatever their names (``{campaign_id}`` = ``{id}``).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_METHOD = "(?:GET|POST|PUT|PATCH|DELETE)"
_ROW = re.compile(rf"^\|\s*({_METHOD}(?:\s*/\s*{_METHOD})*)\s*\|\s*`([^`]+)`", re.M)


def _normal(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0].rstrip("/") or "/")


def is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/healthz"


def documented_endpoints(text: str) -> set[str]:
    """``"GET /api/x/{}"`` for every method and path of every endpoint table row in ``text``."""
    return {
        f"{method.strip()} {_normal(path)}" for methods, path in _ROW.findall(text) for method in methods.split("/")
    }


def served_endpoints(schema: dict) -> set[str]:
    return {
        f"{method.upper()} {_normal(path)}"
        for path, operations in schema["paths"].items()
        if is_api(path)
        for method in operations
        if method.upper() in METHODS
    }


def test_the_convention_reads_rows_and_nothing_else():
    text = "| GET / PATCH | `/api/a/{a_id}/` | x |\n| POST | `/api/b?q=` | — |\nGET `/api/c` in prose\n| Field | `x` |"
    assert documented_endpoints(text) == {"GET /api/a/{}", "PATCH /api/a/{}", "POST /api/b"}


async def test_every_api_endpoint_is_in_api_md_and_every_one_there_exists(app):
    served = served_endpoints(app.openapi_schema.to_schema())
    documented = documented_endpoints((ROOT / "docs" / "api.md").read_text())
    assert len(served) > 80
    undocumented, gone = sorted(served - documented), sorted(documented - served)
    assert not undocumented, "served but not documented in docs/api.md:\n" + "\n".join(undocumented)
    assert not gone, "documented in docs/api.md but not served:\n" + "\n".join(gone)
