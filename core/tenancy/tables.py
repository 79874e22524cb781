"""Tenancy tables: partners (the reselling tree), portals, their host names, the audit log and requests."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Partner(Table, tablename="partner"):
    """A node of the partner tree: the system owner, a reseller at any depth, or an end-user company."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    name = Varchar(length=120)
    kind = Varchar(length=10, help_text="owner, reseller or end_user")
    parent: ForeignKey[Partner] = ForeignKey(references="self", null=True, on_delete=OnDelete.restrict)
    path = Varchar(
        length=400,
        index=True,
        help_text="Zero-padded ancestor ids, '/0000000001/0000000005/': a subtree is one LIKE prefix",
    )
    currency = Varchar(length=3, default="EUR")
    balance = BigInt(default=0, help_text="Micro-units (1/1,000,000) of the currency")
    credit_limit = BigInt(default=0, help_text="Micro-units the balance may go below zero")
    options = JSON(default={}, help_text="PartnerOptions set by the parent (TEN-3)")
    blocked = Boolean(default=False)
    # Not a foreign key: portal.partner already points here and piccolo cannot create a cycle of FKs.
    portal_id = Integer(null=True, default=None, help_text="The portal whose host this partner's users sign in on")
    created_at = Timestamptz()


class PortalRecord(Table, tablename="portal"):
    """A white-label Campaign Portal owned by a partner (TEN-1)."""

    id: Serial

    slug = Varchar(length=40, unique=True)
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, help_text="The owning partner")
    brand_name = Varchar(length=80)
    theme = Varchar(length=40, default="default", help_text="Folder under tenants/")
    default_language = Varchar(length=2, default="en")
    languages = JSON(default=["en", "es", "ru", "tr"])
    self_registration = Boolean(default=False)
    require_2fa = Boolean(default=False)
    terms_url = Varchar(length=300, default="")
    privacy_url = Varchar(length=300, default="")
    consent_text = Varchar(length=500, default="")
    help_email = Varchar(length=200, default="")
    registration_fields = JSON(default=[])
    created_at = Timestamptz()


class PortalHost(Table, tablename="portal_host"):
    """A host name that selects its portal (TEN-2); one host belongs to one portal."""

    id: Serial

    portal = ForeignKey(references=PortalRecord, on_delete=OnDelete.cascade)
    host = Varchar(length=253, unique=True)


class AuditEntry(Table, tablename="audit_entry"):
    """One action of a user on partner data (X-5), visible to the acting partner's admins and ancestors."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, help_text="The acting partner")
    partner_path = Varchar(length=400, index=True, help_text="Copy of partner.path for subtree scoping")
    user_id = Integer(null=True, default=None, help_text="Acting user; kept after the user is deleted")
    user_email = Varchar(length=254, default="")
    action = Varchar(length=60, index=True)
    object_type = Varchar(length=40)
    object_id = Integer(null=True, default=None)
    summary = Varchar(length=500)
    details = JSON(default={})
    ip = Varchar(length=45, default="")
    created_at = Timestamptz(index=True)


class PartnerRequest(Table, tablename="partner_request"):
    """A request that travels up the partner tree (TEN-5): a sender ID now, templates and campaigns later."""

    id: Serial

    kind = Varchar(length=30, index=True, help_text="A registered request kind: sender_id, …")
    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, help_text="The requesting partner")
    partner_path = Varchar(length=400, index=True, help_text="Copy of the requester's path for subtree scoping")
    holder = ForeignKey(
        references=Partner, on_delete=OnDelete.cascade, help_text="The partner whose inbox holds the request"
    )
    status = Varchar(length=12, default="new", index=True, help_text="new, in_progress, confirmed, declined, canceled")
    subject = Varchar(length=200, help_text="What is asked for, in a few words: 'sms sender ID ACME'")
    reason = Varchar(length=500, default="", help_text="Why it was declined, shown to the requester")
    payload = JSON(default={}, help_text="What the kind needs to act on a confirmation")
    attachments = JSON(default=[], help_text="[{name, path, size}]: files under the var dir")
    requester_user_id = Integer(null=True, default=None)
    requester_email = Varchar(length=254, default="", help_text="Told by e-mail about the decision")
    requester_language = Varchar(length=2, default="en")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ShortDomain(Table, tablename="short_domain"):
    """A host name the owner serves short links on (URL-1); partners get it through PartnerOptions."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    host = Varchar(length=253, unique=True, help_text="Lower-case host name without port")
    created_at = Timestamptz()
