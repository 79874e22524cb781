"""What a parent allows a partner (TEN-3), read where a feature checks it: campaigns, templates, the API."""

from __future__ import annotations

import msgspec

from core.db import json_value, must_exist
from core.tenancy.schemas import PartnerOptions
from core.tenancy.tables import Partner


async def partner_options(partner_id: int) -> PartnerOptions:
    """The partner's options; an empty channel list means no restriction was set."""
    row = must_exist(await Partner.select(Partner.options).where(Partner.id == partner_id).first())
    return msgspec.convert(json_value(row["options"]) or {}, PartnerOptions, strict=False)
