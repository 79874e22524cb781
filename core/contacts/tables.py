"""Contacts tables: contacts, groups and memberships, stop-list blocks, custom fields, imports, table settings."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from core.accounts.tables import User
from core.senders.tables import Sender
from core.tenancy.tables import Partner


class ContactGroup(Table, tablename="contact_group"):
    """A named set of a partner's contacts; a contact may be in several (CON-4)."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=120, help_text="Unique per partner, regardless of case")
    description = Varchar(length=500, default="")
    created_at = Timestamptz()


class Contact(Table, tablename="contact"):
    """A person a partner sends to (CON-1); the phone is E.164 digits and unique per partner."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade)
    phone = Varchar(length=15)
    first_name = Varchar(length=100, default="")
    last_name = Varchar(length=100, default="")
    birth_date = Date(null=True, default=None)
    gender = Varchar(length=10, default="", help_text="'', female, male or other")
    comments = Text(default="")
    custom = JSON(default={}, help_text="Values of the partner's custom fields, by variable")
    blocked_all = Boolean(default=False, help_text="Stop list: no sender ID may send to this contact")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(help_text="Indexed with partner (contact_partner_created)")
    updated_at = Timestamptz()


class ContactGroupMember(Table, tablename="contact_group_member"):
    id: Serial
    contact = ForeignKey(references=Contact, on_delete=OnDelete.cascade)
    group = ForeignKey(references=ContactGroup, on_delete=OnDelete.cascade, index=True)


class ContactBlock(Table, tablename="contact_block"):
    """Stop list (CON-5): this contact must not receive messages from this sender ID."""

    id: Serial

    contact = ForeignKey(references=Contact, on_delete=OnDelete.cascade)
    sender = ForeignKey(references=Sender, on_delete=OnDelete.cascade)


class ContactField(Table, tablename="contact_field"):
    """A custom column of a partner's contacts (CON-2)."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=60)
    variable = Varchar(length=40, help_text="Lower-case name without spaces; {variable} in message texts")
    data_type = Varchar(length=10, help_text="text, number, date, boolean or list")
    choices = JSON(default=[], help_text="Allowed values of a list field")
    required = Boolean(default=False)
    created_at = Timestamptz()


class TableSetting(Table, tablename="table_setting"):
    """A user's column order and visibility for one table (contacts, campaigns, EDR)."""

    id: Serial

    user = ForeignKey(references=User, on_delete=OnDelete.cascade)
    table_name = Varchar(length=40)
    columns = JSON(default=[], help_text="[{key, visible}] in display order")


class ContactImport(Table, tablename="contact_import"):
    """One import of a file into a partner's contacts (CON-6, CON-7)."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    user = Integer(null=True, default=None)
    user_email = Varchar(length=254, default="")
    filename = Varchar(length=255)
    stored_path = Varchar(length=500, help_text="The original file under var/imports/")
    size = BigInt(default=0)
    status = Varchar(length=10, default="uploaded", help_text="uploaded, queued, running, done or failed")
    contact_mode = Varchar(length=12, default="add_update", help_text="add_update, add_new or update")
    stop_mode = Varchar(length=12, default="exclude", help_text="exclude, unblock or block")
    stop_senders = JSON(default=[], help_text="Sender ids for unblock/block; [] with block means all")
    group_id = Integer(null=True, default=None)
    mapping = JSON(default={}, help_text="Column index → contact field")
    total = Integer(default=0)
    processed = Integer(default=0)
    added = Integer(default=0)
    updated = Integer(default=0)
    skipped = Integer(default=0)
    invalid = Integer(default=0)
    invalid_path = Varchar(length=500, default="")
    error = Text(default="")
    created_at = Timestamptz(index=True)
    finished_at = Timestamptz(null=True, default=None)
