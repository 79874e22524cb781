"""Mail tables: every outgoing message, kept after delivery as the outbox and its history."""

from __future__ import annotations

from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

MAIL_STATUSES = ("queued", "sent", "failed", "outbox")


class MailMessage(Table, tablename="mail_message"):
    """One rendered e-mail; the delivery job reads it by id and records the outcome on it."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    # Plain integers, not foreign keys: a message stays readable after its portal or partner is gone.
    portal_id = Integer(null=True, default=None, help_text="Portal whose brand and host the message carries")
    partner_id = Integer(null=True, default=None, help_text="Partner the message concerns, if any")
    to_address = Varchar(length=254)
    subject = Varchar(length=300)
    text_body = Text()
    html_body = Text()
    template = Varchar(length=100)
    language = Varchar(length=5, default="en")
    status = Varchar(length=10, default="queued", index=True, help_text="queued, sent, failed or outbox")
    attempts = Integer(default=0, help_text="Delivery attempts made against the SMTP server")
    last_error = Text(default="")
    # The file stays on disk (an export keeps its file for days); the message is stored small and reads it to send.
    attachment_path = Varchar(length=500, default="", help_text="A file sent with the message, if any")
    attachment_name = Varchar(length=200, default="", help_text="The attached file's name as the reader sees it")
    created_at = Timestamptz(index=True)
    sent_at = Timestamptz(null=True, default=None)
