"""The Campaign Portal shell around every signed-in page: menu, balance and user menu."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from core.billing.services import balance_of
from core.plugins import pm
from core.providers import MenuLink
from core.tenancy.schemas import Actor
from core.web.templating import render


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
        "balance": await balance_of(actor),
        "current_path": request.url.path,
    }
    return render(request, template, {**shell, **(context or {})}, status_code=status_code)
