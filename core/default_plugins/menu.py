"""The core's own menu entries, contributed through the same hook as any plugin's."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.providers import MenuLink
from core.tenancy.schemas import Actor


@hookimpl
def menu_links(actor: Actor) -> list[MenuLink]:
    links = [MenuLink(label="Dashboard", href="/", icon="home", order=0)]
    if actor.is_partner_manager:
        links.append(MenuLink(label="Admin Panel", href="/admin", icon="settings", order=900))
    return links
