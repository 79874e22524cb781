"""Every plugin hook of campaign-portal, with the contract each one keeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    import msgspec
    from litestar.types import ControllerRouterHandler

    from core.actor import Actor
    from core.events import CampaignStatusChanged, LinkClicked, MessageStatusChanged, PaymentSettled
    from core.portal import Portal
    from core.providers import ChannelProvider, MenuLink, PaymentProvider, Shortener, StandIn

hookspec = HookspecMarker("campaign_portal")
hookimpl = HookimplMarker("campaign_portal")


@hookspec
def register_channels(register: Callable[[ChannelProvider], None]) -> None:
    """Hand the core channel providers (sms, viber, whatsapp, …) by calling ``register(provider)``.

    Called once when the plugin registries are built. Provider names must be unique.
    """


@hookspec
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    """Hand the core payment providers by calling ``register(provider)``; called once at start-up."""


@hookspec
def register_shorteners(register: Callable[[Shortener], None]) -> None:
    """Hand the core URL shorteners by calling ``register(shortener)``; called once at start-up."""


@hookspec
def register_stand_ins(register: Callable[[type[StandIn]], None]) -> None:
    """Hand the core the class of a local vendor stand-in by calling ``register(cls)``, one per channel.

    ``portal simulate <channel>`` runs it; ``portal run`` and the tests start it and point a vendor connection at
    it (CHN-4). Called once when the plugin registries are built.
    """


@hookspec
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    """Declare a plugin's settings: ``register(name, SettingsStruct)``.

    The core validates the ``[plugins.<name>]`` table of the config file and ``PORTAL_<NAME>_<FIELD>``
    environment variables against the Struct; ``portal.plugin_settings(name)`` returns the instance.
    """


@hookspec
def register_routes() -> Sequence[ControllerRouterHandler] | None:
    """Return litestar handlers, controllers or routers to mount (webhooks, redirects, pages)."""


@hookspec
def register_piccolo_apps() -> Sequence[str] | None:
    """Return dotted paths of the plugin's piccolo_app modules; their migrations run with core's."""


@hookspec
def register_jobs() -> Sequence[Callable[..., Awaitable[Any]]] | None:
    """Return saq task functions ``async def task(ctx, **kwargs)`` the worker must know."""


@hookspec
def template_dirs() -> Sequence[str] | None:
    """Return directories of Jinja templates; they are searched after the tenant's theme, before core's."""


@hookspec
def menu_links(actor: Actor) -> Sequence[MenuLink] | None:
    """Return the menu entries ``actor`` may use, called on every page render (keep it cheap)."""


@hookspec
def startup(portal: Portal) -> Awaitable[None] | None:
    """Called once after the app, database and Redis are ready; may return an awaitable."""


@hookspec
def message_status_changed(portal: Portal, event: MessageStatusChanged) -> Awaitable[None] | None:
    """Called after EDRs changed status (a batch of changes per call); must not raise."""


@hookspec
def campaign_status_changed(portal: Portal, event: CampaignStatusChanged) -> Awaitable[None] | None:
    """Called after a campaign moved to another status; must not raise."""


@hookspec
def payment_settled(portal: Portal, event: PaymentSettled) -> Awaitable[None] | None:
    """Called once after a payment was credited to a partner's balance; must not raise."""


@hookspec
def link_clicked(portal: Portal, event: LinkClicked) -> Awaitable[None] | None:
    """Called after a short link was followed; must not raise."""
