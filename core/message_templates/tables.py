"""Campaign templates (one table for every channel, its own fields in a JSON ``content``) and MO reply templates."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from core.tenancy.tables import Partner


class MessageTemplate(Table, tablename="message_template"):
    """A partner's campaign template (TPL-1). SMS keeps ``{"text", "flash"}`` in ``content``; Viber and WhatsApp
    kinds add their own keys there, so a new kind needs no new table."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=40, help_text="A registered channel name: sms, viber, whatsapp, …")
    name = Varchar(length=120, help_text="Unique per partner, compared without case")
    sender_id = Integer(null=True, default=None, help_text="The sender ID it sends from; checked when used")
    content = JSON(default={}, help_text="The channel's fields: SMS has text and flash")
    status = Varchar(length=12, default="approved", help_text="approved, waiting (premoderation) or declined")
    status_reason = Varchar(length=300, default="")
    request_id = Integer(null=True, default=None, help_text="Its latest premoderation request (TPL-2)")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ReplyTemplate(Table, tablename="reply_template"):
    """An automatic answer to MO messages (TPL-4): the keywords it answers, its priority, what it does to the
    contact's subscription to the sender ID."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=40, help_text="The channel whose MO messages it answers, by the same channel")
    name = Varchar(length=120, help_text="Unique per partner, compared without case")
    keywords = Varchar(length=500, help_text="Lower-cased keywords joined by commas")
    priority = Integer(default=5, help_text="1 to 10: the highest that matches answers; the newest among equals")
    text = Text(help_text="The reply; empty sends none and only applies the action")
    action = Varchar(length=12, default="none", help_text="none, unsubscribe (block the sender ID) or subscribe")
    group_id = Integer(null=True, default=None, help_text="A contact group the contact is added to by the action")
    created_at = Timestamptz()
    updated_at = Timestamptz()
