"""Campaign test helpers: the acting end user and a campaign scheduled tomorrow (nothing is sent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.actor import Actor
from core.campaigns.schemas import CampaignCreate, CampaignView
from core.campaigns.services import create_campaign
from tests.factories import Tenant


async def scheduled_campaign(app: Any, actor: Actor, tenant: Tenant, **fields: Any) -> CampaignView:
    data = {
        "name": "Spring sale",
        "sender_id": tenant.sender_id,
        "text": "Hello {first_name}",
        "numbers": ["+34612345678"],
        "send_at": datetime.now(UTC) + timedelta(days=1),
        **fields,
    }
    return await create_campaign(app.state.portal, actor, CampaignCreate(**data))
