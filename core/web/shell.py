"""The Campaign Portal shell around every signed-in page: menu, header values (the balance) and user menu."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response

from core.actor import Actor
from core.plugins import pm
from core.providers import MenuLink
from core.web.templating import render

# Values of the page header that come from domains above the web kit (the balance, from billing), by name;
# core.app registers them at start-up.
_header_values: dict[str, Callable[[Actor], Awaitable[Any]]] = {}


def register_header_value(name: str, compute: Callable[[Actor], Awaitable[Any]]) -> None:
    """Show ``await compute(actor)`` as ``name`` in every signed-in page's context."""
    _header_values[name] = compute


def menu_for(actor: Actor) -> list[MenuLink]:
    links = [link for links in pm.hook.menu_links(actor=actor) for link in links or ()]
    return sorted(links, key=lambda link: (link.order, link.label))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def page(
    request: Request, actor: Actor, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """Render a signed-in page with the shell's menu, balance and the actor's preferences."""
    shell = {
        "actor": actor,
        "menu": menu_for(actor),
        "current_path": request.url.path,
        **{name: await compute(actor) for name, compute in _header_values.items()},
    }
    return render(request, template, {**shell, **(context or {})}, status_code=status_code)
