"""Campaign tables: the campaign with its counters, and the numbers typed or uploaded as its recipients."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from core.tenancy.tables import Partner


class Campaign(Table, tablename="campaign"):
    """One campaign; its progress counters are kept exact by the dispatch engine in the same transactions
    that change its EDRs, so the list never has to count millions of rows."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict)
    created_by = Integer(null=True, default=None)
    name = Varchar(length=200)
    channel = Varchar(length=40)
    sender_id = Integer()
    sender_name = Varchar(length=15, help_text="Copy of the sender ID's name at creation")
    text = Text()
    flash = Boolean(default=False)
    content = JSON(default={}, help_text="The channel's extra fields (Viber: image_url, button_caption, button_url)")
    template_id = Integer(
        null=True, default=None, index=True, help_text="The template it was made from; deleted by then, it fails"
    )
    group_ids = JSON(default=[], help_text="Contact groups whose members receive it")
    all_contacts = Boolean(default=False)
    status = Varchar(length=20, index=True, help_text="waiting, scheduled, in_progress, paused, completed, …")
    status_reason = Varchar(length=300, default="")
    scheduled_at = Timestamptz(null=True, default=None, help_text="UTC instant of a scheduled start")
    timezone = Varchar(length=60, default="UTC")
    notify_emails = JSON(default=[])
    validity_hours = Integer(default=48, help_text="A message with no report after this ends undelivered")
    # Quiet hours (CMP-8): messages go out only while the recipient's local time is in [from, until), in minutes
    # after midnight; until < from wraps past midnight. Both null: any time.
    window_from = Integer(null=True, default=None, help_text="Send window start, minutes after local midnight")
    window_until = Integer(null=True, default=None, help_text="Send window end, minutes after local midnight")
    rate_limit = Integer(null=True, default=None, help_text="At most this many messages per second; null: no limit")
    billing_mode = Varchar(length=10, default="", help_text="submitted or delivered, fixed at start")
    currency = Varchar(length=3, default="")
    ledger_entry_id = Integer(null=True, default=None, help_text="The campaign's one ledger row")
    request_id = Integer(null=True, default=None, help_text="Its premoderation request (TEN-3, CMP-1)")
    # Cascade (CMP-7): each further channel is a campaign of its own (a step), listed and acted on through the first.
    parent_id = Integer(null=True, default=None, index=True, help_text="The step before this one in a cascade")
    root_id = Integer(null=True, default=None, index=True, help_text="The cascade's first step (the campaign shown)")
    fallback_ttl = Integer(
        null=True, default=None, help_text="Seconds a message waits for delivery before the next step; null: last step"
    )
    # Expansion checkpoint: recipients are written source by source in id order, so a restart resumes.
    expansion = JSON(default={}, help_text="{'source': 'groups' or 'numbers', 'after': last id written}")
    expanded = Boolean(default=False, help_text="Every recipient has its EDR")
    total = Integer(default=0, help_text="EDRs written")
    stop_listed = Integer(default=0)
    sent = Integer(default=0, help_text="Accepted by the vendor")
    delivered = Integer(default=0)
    undelivered = Integer(default=0)
    failed = Integer(default=0, help_text="Never accepted: no rate, vendor refusal, unknown outcome")
    cost = BigInt(default=0, help_text="Micro-units charged")
    reserved = BigInt(default=0, help_text="Micro-units reserved for By Delivered messages awaiting a report")
    created_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class CampaignNumber(Table, tablename="campaign_number"):
    """A recipient typed in or uploaded (not from a contact group), already normalised and deduplicated."""

    id: Serial

    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.cascade, index=True)
    phone = Varchar(length=15)
    # Campaign from file (CMP-6): a row's own message and its other columns; null for typed numbers.
    text = Text(null=True, default=None, help_text="The row's own message; null: the campaign's text")
    fields = Text(null=True, default=None, help_text="JSON object: the file's other columns, as variables")
