"""Reply template Structs at the boundaries (TPL-4): what the pages and the API send, and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.message_templates.schemas import Name
from core.web.pagination import PageNumber, PerPageNumber
from core.web.params import Id

Action = Literal["none", "unsubscribe", "subscribe"]
Keywords = Annotated[
    str, Meta(max_length=500, description="Comma-separated; an MO matches when it starts with one, case aside")
]
Priority = Annotated[int, Meta(ge=1, le=10, description="1 to 10: the highest matching template answers")]
ReplyText = Annotated[
    str, Meta(max_length=1000, description="The answer; empty sends none and only applies the action")
]


class ReplyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new reply template; ``group_id`` is one of your contact groups the contact joins on the action."""

    name: Name
    channel: Annotated[str, Meta(max_length=40)] = "sms"
    keywords: Keywords
    priority: Priority = 5
    text: ReplyText = ""
    action: Action = "none"
    group_id: Id | None = None


class ReplyUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; the channel stays what the template was created with."""

    name: Name | UnsetType = UNSET
    keywords: Keywords | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    text: ReplyText | UnsetType = UNSET
    action: Action | UnsetType = UNSET
    group_id: Id | UnsetType | None = UNSET


class ReplyView(msgspec.Struct, kw_only=True):
    id: int
    name: str
    channel: str
    channel_label: str
    keywords: list[str]
    priority: int
    text: str
    action: Action
    group_id: int | None
    group: Annotated[str, Meta(description="The group's name; empty when none is set or it was deleted")]
    created_at: datetime
    updated_at: datetime


class ReplyFilter(msgspec.Struct, kw_only=True):
    query: str = ""
    channel: str = ""
    page: PageNumber = 1
    per_page: PerPageNumber = 24
