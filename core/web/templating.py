"""Jinja environments, one per theme: the tenant's templates first, then plugins', then core's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.utils.scope.state import ScopeState

from core.money import format_amount
from core.plugins import plugin_template_dirs
from core.web.i18n import LANGUAGE_NAMES, field_message, pick_language, translate, translations
from core.web.themes import load_theme

CORE_DIR = Path(__file__).resolve().parent.parent
CORE_TEMPLATE_DIRS = [
    str(CORE_DIR / "web" / "templates"),
    str(CORE_DIR / "accounts" / "templates"),
    str(CORE_DIR / "tenancy" / "templates"),
    str(CORE_DIR / "mail" / "templates"),
    str(CORE_DIR / "contacts" / "templates"),
    str(CORE_DIR / "senders" / "templates"),
    str(CORE_DIR / "numbering" / "templates"),
    str(CORE_DIR / "billing" / "templates"),
    str(CORE_DIR / "message_templates" / "templates"),
    str(CORE_DIR / "campaigns" / "templates"),
    str(CORE_DIR / "statistics" / "templates"),
    str(CORE_DIR / "dispatch" / "templates"),
    str(CORE_DIR / "public_api" / "templates"),
    str(CORE_DIR / "shortlinks" / "templates"),
]

# User-facing date formats (ACC-4) and their strftime equivalents.
DATE_FORMATS = {
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD.MM.YYYY": "%d.%m.%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "MM/DD/YYYY": "%m/%d/%Y",
}


def app_version() -> str:
    try:
        return version("campaign-portal")
    except PackageNotFoundError:
        return "0.1.0"


def format_datetime(value: datetime | None, actor: Any = None, with_time: bool = True) -> str:
    """A UTC datetime in the actor's time zone and date format."""
    if value is None:
        return ""
    fmt = DATE_FORMATS.get(getattr(actor, "date_format", ""), "%Y-%m-%d")
    zone = ZoneInfo(getattr(actor, "timezone", "UTC") or "UTC")
    return value.astimezone(zone).strftime(fmt + (" %H:%M" if with_time else ""))


def format_date(value: date | None, actor: Any = None) -> str:
    """A calendar date (no time zone to convert) in the actor's date format."""
    return value.strftime(DATE_FORMATS.get(getattr(actor, "date_format", ""), "%Y-%m-%d")) if value else ""


# Globals of domains above the web kit (billing's ledger kinds), registered at start-up by core.app.
_domain_globals: dict[str, Any] = {}


def register_template_global(name: str, value: Any) -> None:
    """Make ``value`` a global of every template (environments are rebuilt with it)."""
    _domain_globals[name] = value
    environment.cache_clear()


@cache
def environment(theme_slug: str, language: str = "en") -> Environment:
    """The Jinja environment of a theme in a language; one per pair, built once."""
    theme = load_theme(theme_slug)
    dirs = [str(theme.template_dir), *plugin_template_dirs(), *CORE_TEMPLATE_DIRS]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in dirs]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]  # the i18n extension adds it
    env.globals.update(version=app_version(), language=language, language_names=LANGUAGE_NAMES, **_domain_globals)
    env.filters["money"] = format_amount
    env.filters["dt"] = format_datetime
    env.filters["day"] = format_date
    env.filters["translate"] = lambda value: translate(language, value)
    env.filters["field_message"] = lambda value: field_message(language, value)
    return env


_portal_of_host: Callable[[str], Any] | None = None
_resolve_host: Callable[[str], Awaitable[Any]] | None = None


def register_portal_lookup(lookup: Callable[[str], Any], resolve: Callable[[str], Awaitable[Any]]) -> None:
    """Tenancy's host → portal lookups, cached only and with a query on a miss, for pages rendered where no
    middleware ran (an unknown route's 404)."""
    global _portal_of_host, _resolve_host
    _portal_of_host, _resolve_host = lookup, resolve


async def load_request_portal(request: Request) -> None:
    """Put the Host's portal in the request's state as the middleware does: litestar answers an unknown route
    before any middleware, and its 404 must still carry the brand of the portal the host selected (TEN-2)."""
    state = request.scope.setdefault("state", {})
    if "portal" not in state and _resolve_host is not None:
        state["portal"] = await _resolve_host(request.headers.get("host", ""))


def _request_portal(request: Request) -> Any:
    state = request.scope.get("state", {})
    if "portal" in state:
        return state["portal"]
    # Not looked up (load_request_portal): the resolver's cache, else the page has no brand at all rather than
    # another portal's.
    return _portal_of_host(request.headers.get("host", "")) if _portal_of_host else None


def page_language(request: Request, actor: Any = None) -> str:
    """The language a page for ``request`` is rendered in (for texts a service says, such as audit sentences)."""
    return pick_language(request, actor, _request_portal(request))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render ``template`` in the request portal's theme with the shell's context."""
    portal = _request_portal(request)
    theme = load_theme(portal.theme if portal else "default")
    actor = (context or {}).get("actor")
    env = environment(theme.slug, pick_language(request, actor, portal))
    csrf = ScopeState.from_scope(request.scope).csrf_token
    ctx = {
        "request": request,
        "portal": portal,
        "theme": theme,
        "brand_name": portal.brand_name if portal else "",
        "csrf_token": csrf if isinstance(csrf, str) else "",
        "actor": None,
        "menu": [],
        **(context or {}),
    }
    html = env.get_template(template).render(ctx)
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers=headers)
