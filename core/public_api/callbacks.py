"""What an API key's callbacks did (API-3): the key's outbox rows, newest first, with their attempts and outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from core.accounts.tables import ApiKey
from core.actor import Actor
from core.dispatch.tables import CallbackOutbox
from core.errors import NotFound
from core.tenancy.scope import owned, require_admin
from core.web.pagination import Page, paginate


class CallbackView(msgspec.Struct, kw_only=True):
    """One callback: what it reported, where it went, how many tries it took and how the last one ended."""

    id: int
    event: str
    transaction_id: str
    url: str
    body: str
    state: Literal["pending", "delivered", "expired"]
    attempts: int
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


async def list_callbacks(actor: Actor, key_id: int, *, page: int, per_page: int) -> Page[CallbackView]:
    """The callbacks of one of the actor's keys.

    Raises:
        NotFound: the key is not the actor's partner's.
    """
    require_admin(actor, "manage API keys")
    if not await ApiKey.exists().where((ApiKey.id == key_id) & owned(ApiKey, actor)):
        raise NotFound("API key")
    result = await paginate(
        CallbackOutbox.select().order_by(CallbackOutbox.id, ascending=False),
        (CallbackOutbox.api_key == key_id) & owned(CallbackOutbox, actor),
        page=page,
        per_page=per_page,
    )
    return result.with_items(
        [
            CallbackView(
                id=r["id"],
                event=r["event"],
                transaction_id=r["transaction_id"],
                url=r["url"],
                body=r["body"],
                state=r["state"],
                attempts=r["attempts"],
                last_attempt_at=r["last_attempt_at"],
                last_status=r["last_status"],
                last_error=r["last_error"],
                next_attempt_at=r["next_attempt_at"] if r["state"] == "pending" else None,
                created_at=r["created_at"],
                delivered_at=r["delivered_at"],
            )
            for r in result.items
        ]
    )
