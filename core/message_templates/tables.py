"""Campaign templates: one table for every channel, the channel's own fields kept in a JSON ``content``."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
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
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
