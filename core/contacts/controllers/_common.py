"""Helpers shared by the contacts pages: the filter in links and hidden fields, selections, typed-in values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, get_args
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec
from litestar import Request

from core.accounts.controllers import safe_next
from core.contacts.params import contact_filter
from core.contacts.schemas import ContactFilter, Selection, SortKey
from core.web.forms import convert

SORTABLE = frozenset(get_args(SortKey))
PER_PAGE_CHOICES = (20, 50, 100, 200)
_DEFAULT = ContactFilter()
# Keys that shape the view of the table rather than narrow it: they do not make a list "filtered".
_VIEW_KEYS = frozenset({"sort", "descending", "page", "per_page", "blocked"})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def filter_pairs(f: ContactFilter, *, page: bool = False) -> list[tuple[str, str]]:
    """The filter as query-string pairs, defaults left out, in the names ``contact_filter`` reads back."""
    pairs: list[tuple[str, str]] = []
    for name in ContactFilter.__struct_fields__:
        value = getattr(f, name)
        if name == "custom":
            pairs.extend((f"custom.{key}", text) for key, text in value.items() if text)
        elif (name != "page" or page) and value != getattr(_DEFAULT, name):
            pairs.append((name, _text(value)))
    return pairs


def page_window(current: int, last: int, spread: int = 2) -> list[int | None]:
    """Page numbers around the current one, the first and the last; None marks a gap."""
    shown = sorted({1, last, *range(max(1, current - spread), min(last, current + spread) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - (window[-1] or 0) > 1:
            window.append(None)
        window.append(number)
    return window


def is_filtered(f: ContactFilter, *, besides: tuple[str, ...] = ()) -> bool:
    """Whether the filter narrows the list, not counting the fields named in ``besides``."""
    return any(name not in _VIEW_KEYS and name not in besides for name, _ in filter_pairs(f))


def linker(path: str, f: ContactFilter) -> Callable[..., str]:
    """``url(page=2)`` in templates: this list's URL with its filter and the given changes."""

    def url(**changes: Any) -> str:
        query = urlencode(filter_pairs(msgspec.structs.replace(f, **changes), page=True))
        return f"{path}?{query}" if query else path

    return url


def selection_of(params: Any) -> Selection:
    """Rows picked in a list: repeated ``ids``, or ``all_matching`` with the filter's own fields beside it."""
    picked = convert(
        {"ids": params.getall("ids", []), "all_matching": params.get("all_matching") in ("1", "on", "true")},
        Selection,
    )
    return msgspec.structs.replace(picked, filter=contact_filter(params))


def back_url(params: Mapping[str, Any], default: str = "/contacts") -> str:
    """Where a form returns to: the list it was opened from, never another site."""
    target = safe_next(str(params.get("back") or ""))
    return default if target == "/" else target


def done_url(back: str, done: str, count: int = 1) -> str:
    """``back`` with the outcome of the action for the list to announce (an earlier outcome replaced)."""
    parts = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", "n")] + [("done", done), ("n", str(count))]
    return f"{parts.path}?{urlencode(query)}"


def outcome(params: Mapping[str, Any]) -> tuple[str, int]:
    """The ``done`` and ``n`` a redirect put in the query string: what just happened, to how many rows."""
    count = str(params.get("n") or "")
    return str(params.get("done") or ""), int(count) if count.isdigit() else 0


def typed_values(form: Any, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the user typed, to fill the form again after an error; ``lists`` are always lists."""
    return {key: form.getall(key) if key in lists else form.get(key) for key in form}


def client_query(request: Request) -> str:
    """This request's path and query string, for a ``back`` link."""
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path
