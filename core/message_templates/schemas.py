"""Campaign template Structs at the boundaries: what the pages and the API send, and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.web.i18n import N_, Message, ngettext
from core.web.pagination import PageNumber, PerPageNumber
from core.web.params import Id

Name = Annotated[str, Meta(max_length=120, description="Unique among your company's templates")]
Text = Annotated[str, Meta(max_length=2000, description="Variables as {first_name} or {custom_field}")]
ImageUrl = Annotated[str, Meta(max_length=1000, description="Viber: an http(s) image shown above the text")]
ButtonCaption = Annotated[str, Meta(max_length=30, description="Viber: the button's caption, with button_url")]
ButtonUrl = Annotated[str, Meta(max_length=1000, description="Viber: the http(s) address the button leads to")]


class TemplateCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new SMS or Viber template; ``sender_id`` is one of your enabled sender IDs of the channel. Image and
    button are Viber's only."""

    name: Name
    channel: Annotated[str, Meta(max_length=40)] = "sms"
    sender_id: Id | None = None
    text: Text
    flash: bool = False
    image_url: ImageUrl = ""
    button_caption: ButtonCaption = ""
    button_url: ButtonUrl = ""


class TemplateUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; the channel of a template stays what it was created with."""

    name: Name | UnsetType = UNSET
    sender_id: Id | UnsetType | None = UNSET
    text: Text | UnsetType = UNSET
    flash: bool | UnsetType = UNSET
    image_url: ImageUrl | UnsetType = UNSET
    button_caption: ButtonCaption | UnsetType = UNSET
    button_url: ButtonUrl | UnsetType = UNSET


class TemplateView(msgspec.Struct, kw_only=True):
    id: int
    name: str
    channel: str
    channel_label: str
    sender_id: int | None
    sender: Annotated[str, Meta(description="The sender ID's name; empty when it no longer exists")]
    sender_enabled: bool
    text: str
    flash: bool
    image_url: str
    button_caption: str
    button_url: str
    traffic_type: Annotated[
        str, Meta(description="Viber: promotion when an image or a button is present, else transaction (derived)")
    ]
    length: Annotated[int, Meta(description="Characters, a variable counted as ten (TPL-3)")]
    parts: Annotated[int, Meta(description="Message parts the text takes on its channel, estimated")]
    status: Annotated[
        str, Meta(description="approved; waiting or declined under premoderation (only approved ones make campaigns)")
    ]
    status_reason: str
    created_at: datetime
    updated_at: datetime


class TemplateFilter(msgspec.Struct, kw_only=True):
    query: str = ""
    channel: str = ""
    status: Literal["", "approved", "waiting", "declined"] = ""
    page: PageNumber = 1
    per_page: PerPageNumber = 24


class TemplateUser(msgspec.Struct, kw_only=True):
    """Something that will still use a template, named for the warning before it is deleted (TPL-5)."""

    kind: str
    id: int
    name: str
    sending: bool = False  # still sending (in progress or paused), not only scheduled


# The 409 of deleting a template (TPL-5) that scheduled campaigns send, campaign or vendor template alike.
SCHEDULED_USERS = N_(
    "Scheduled campaigns use this template and will fail when they start: %(names)s. Delete it anyway?"
)
NAMED_USERS = 5


def users_named(users: list[TemplateUser]) -> str | Message:
    """The first users' names for a refusal, and how many more there are."""
    names = ", ".join(u.name for u in users[:NAMED_USERS])
    if len(users) <= NAMED_USERS:
        return names
    return ngettext(
        "%(names)s and %(count)s more", "%(names)s and %(count)s more", len(users) - NAMED_USERS, names=names
    )
