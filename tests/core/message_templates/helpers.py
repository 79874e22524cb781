"""Template test helpers: a signed-in end user of tenant A, and a template made through the service."""

from __future__ import annotations

from typing import Any

from core.actor import Actor
from core.message_templates.schemas import TemplateCreate, TemplateView
from core.message_templates.services import create_template
from core.tenancy.tables import Partner
from tests.core.contacts.helpers import actor_of
from tests.factories import World, make_world, sign_in


async def session(client_for: Any) -> tuple[World, Any, Actor]:
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    return world, client, await actor_of(world.a)


async def template(app: Any, actor: Actor, sender_id: int, **fields: Any) -> TemplateView:
    data = {"name": "Welcome", "sender_id": sender_id, "text": "Hi {first_name}, welcome!", **fields}
    return await create_template(app.state.portal, actor, TemplateCreate(**data))


async def allow_flash(partner_id: int) -> None:
    """The parent lets the partner send flash messages (TEN-3)."""
    await Partner.update({Partner.options: {"flash_sms": True}}).where(Partner.id == partner_id)
