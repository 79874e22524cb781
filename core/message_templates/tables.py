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


class VendorTemplate(Table, tablename="vendor_template"):
    """A partner's template submitted to a channel's vendor for approval (WhatsApp): only an approved one can be
    sent. Unique by name and language per vendor connection, as the vendor's account holds them."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=40, help_text="A channel whose vendor approves templates: whatsapp")
    connection = Integer(help_text="The vendor connection it was submitted through; its reviews arrive there")
    name = Varchar(length=512, help_text="Lower case letters, digits and underscores, as Meta requires")
    language = Varchar(length=15, help_text="Meta's language code: en_US, es, de…")
    category = Varchar(length=20, help_text="authentication, utility or marketing")
    body = Text(help_text="The body, parameters as {{1}}, {{2}}…")
    header = Text(default="", help_text="The header as JSON (kind, text, url), or empty")
    footer = Varchar(length=60, default="")
    buttons = Text(default="[]", help_text="The buttons as a JSON list (kind, text, url, phone_number)")
    status = Varchar(length=12, default="pending", help_text="pending, approved or rejected")
    reason = Varchar(length=200, default="", help_text="The vendor's reason for rejecting it")
    vendor_template_id = Varchar(length=64, default="", help_text="The vendor's id for it")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
