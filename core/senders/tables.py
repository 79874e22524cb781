"""Sender ID tables: the names a partner may send from, per channel (SID-1…3); requests live in tenancy."""

from __future__ import annotations

from piccolo.columns import Date, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from core.tenancy.tables import Partner


class Sender(Table, tablename="sender"):
    """A sender ID of a partner on one channel; only ``enabled`` ones may be used anywhere (SID-3)."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade)
    channel = Varchar(length=40, help_text="A registered channel name: sms, viber, whatsapp, …")
    name = Varchar(length=15, help_text="Alphanumeric up to 11 characters, or up to 15 digits")
    status = Varchar(length=10, default="enabled", help_text="enabled, disabled or waiting")
    valid_until = Date(null=True, default=None, help_text="The last day (UTC) it may be used; none: no end (SID-2)")
    created_at = Timestamptz()
