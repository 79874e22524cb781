"""The core's own menu entries, contributed through the same hook as any plugin's."""

from __future__ import annotations

from core.actor import Actor
from core.hookspecs import hookimpl
from core.providers import MenuLink
from core.web.i18n import N_


@hookimpl
def menu_links(actor: Actor) -> list[MenuLink]:
    links = [
        MenuLink(label=N_("Dashboard"), href="/", icon="home", order=0),
        MenuLink(label=N_("Campaigns"), href="/campaigns", icon="send", order=50),
        MenuLink(label=N_("Templates"), href="/templates", icon="file", order=60),
        MenuLink(label=N_("Contacts"), href="/contacts", icon="users", order=100),
        MenuLink(label=N_("Statistics"), href="/statistics/edr", icon="chart", order=200),
    ]
    if actor.short_domains:  # URL-1: hidden for a company without a short domain
        links.append(MenuLink(label=N_("URL shortener"), href="/shortener", icon="link", order=210))
    if not actor.is_owner:  # the owner sets its sender IDs itself, in the Admin Panel; others ask for theirs
        links.append(MenuLink(label=N_("Sender IDs"), href="/senders", icon="tag", order=150))
    if not actor.is_owner:  # packs and plans come from the partner above; the owner has none
        links.append(MenuLink(label=N_("Purchase"), href="/purchase", icon="cart", order=650))
    if actor.is_admin:
        links.append(MenuLink(label=N_("Finance"), href="/finance", icon="wallet", order=700))
        links.append(MenuLink(label=N_("API keys"), href="/api-keys", icon="key", order=800))
        links.append(MenuLink(label=N_("API methods"), href="/api-methods", icon="code", order=810))
        links.append(MenuLink(label=N_("Callback Settings"), href="/callback-settings", icon="code", order=805))
    if actor.is_partner_manager:
        links.append(MenuLink(label=N_("Admin Panel"), href="/admin", icon="settings", order=900))
    return links
