"""Billing tables: the ledger (BIL-7), rate plans, their rates and assignments (BIL-2), packs (BIL-3)."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from core.tenancy.tables import Partner


class LedgerEntry(Table, tablename="ledger_entry"):
    """A balance change of a partner, written in the same transaction as the balance update."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict)
    kind = Varchar(length=20, help_text="manual, top_up, payment, campaign, pack, api, rerating, reply")
    amount = BigInt(help_text="Signed micro-units")
    balance_after = BigInt()
    currency = Varchar(length=3)
    initiator_id = Integer(null=True, default=None, help_text="User who caused it; none for the system")
    initiator_email = Varchar(length=254, default="")
    description = Varchar(length=500)
    details = JSON(default={})
    created_at = Timestamptz(index=True)


class RatePlan(Table, tablename="rate_plan"):
    """A price list for one channel offered by a partner (the owner or a reseller) to its partners (BIL-2)."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    partner_path = Varchar(length=400, index=True, help_text="Copy of the offering partner's path, for scoping")
    name = Varchar(length=120)
    channel = Varchar(length=40, help_text="A registered channel name: sms, viber, whatsapp, …")
    mode = Varchar(length=10, help_text="submitted (By Submitted) or delivered (By Delivered)")
    currency = Varchar(length=3)
    selectable = Boolean(default=False, help_text="Its partners may pick it themselves on the Purchase screen")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Rate(Table, tablename="rate_plan_rate"):
    """The price of one unit (an SMS segment) to a network, or to a country's All networks (``mnc`` empty)."""

    id: Serial

    plan = ForeignKey(references=RatePlan, on_delete=OnDelete.cascade, index=True)
    country_iso = Varchar(length=2)
    mcc = Varchar(length=3)
    mnc = Varchar(length=3, default="")
    price = BigInt(help_text="Micro-units of the plan's currency")
    valid_from = Timestamptz(null=True, default=None)
    valid_to = Timestamptz(null=True, default=None, help_text="Exclusive end")


class PlanAssignment(Table, tablename="rate_plan_assignment"):
    """Which plan a partner uses on a channel; ``slot`` ('<partner id>:<channel>') is unique: one per channel."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    plan = ForeignKey(references=RatePlan, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=40)
    slot = Varchar(length=60, unique=True)
    assigned_by = Varchar(length=254, default="")
    assigned_at = Timestamptz()


class PaymentAccount(Table, tablename="payment_account"):
    """An account with a payment system that a partner (the owner or a reseller) sets for the partners below it."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    provider = Varchar(length=40, help_text="A registered payment provider's name: stripe, …")
    name = Varchar(length=120)
    settings = JSON(default={}, help_text="Decodes to the provider's settings_type; holds its secrets")
    enabled = Boolean(default=True)
    created_at = Timestamptz()


class Payment(Table, tablename="payment"):
    """One top-up through a payment system (BIL-9): pending until the provider confirms, then credited once."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, index=True)
    payment_account = ForeignKey(references=PaymentAccount, on_delete=OnDelete.restrict, index=True)
    provider = Varchar(length=40)
    amount = BigInt(help_text="Micro-units of the partner's currency")
    currency = Varchar(length=3)
    status = Varchar(length=10, default="pending", help_text="pending, paid, canceled or failed")
    vendor_payment_id = Varchar(length=255, null=True, default=None, unique=True)
    initiator_id = Integer(null=True, default=None)
    initiator_email = Varchar(length=254, default="")
    ledger_entry_id = Integer(null=True, default=None, help_text="The credit's ledger row once paid")
    created_at = Timestamptz(index=True)
    paid_at = Timestamptz(null=True, default=None)


class Pack(Table, tablename="pack"):
    """A pack a partner (the owner or a reseller) offers to the partners below it (BIL-3): bought once, N messages."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    partner_path = Varchar(length=400, index=True, help_text="Copy of the offering partner's path, for scoping")
    name = Varchar(length=120)
    channel = Varchar(length=40, help_text="A registered channel name: sms, viber, whatsapp, …")
    country_iso = Varchar(length=2)
    networks = JSON(default=[], help_text="The MCCMNCs it covers; empty: every network of the country")
    price = BigInt(help_text="Micro-units of currency for the whole pack")
    currency = Varchar(length=3)
    messages = Integer(help_text="Units it holds: messages, or segments on SMS")
    mode = Varchar(length=10, help_text="submitted (By Submitted) or delivered (By Delivered)")
    validity_days = Integer(null=True, default=None, help_text="Days it stays usable after purchase; none: no end")
    available_from = Timestamptz(null=True, default=None, help_text="Offered for purchase from")
    available_until = Timestamptz(null=True, default=None, help_text="Offered for purchase until (exclusive)")
    enabled = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class HeldPack(Table, tablename="pack_purchase"):
    """A pack a partner bought: its units are used before any plan (BIL-4), earliest expiry first, until spent."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=True)
    pack_id = Integer(null=True, default=None, help_text="The offer it was bought from")
    name = Varchar(length=120)
    channel = Varchar(length=40)
    country_iso = Varchar(length=2)
    networks = JSON(default=[], help_text="The MCCMNCs it covers; empty: every network of the country")
    mode = Varchar(length=10)
    messages = Integer()
    remaining = Integer(help_text="Units left; taken when a batch is billed, given back when its message fails")
    price = BigInt()
    currency = Varchar(length=3)
    purchased_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    ledger_entry_id = Integer(null=True, default=None, help_text="The purchase's Pack purchase ledger row")
    initiator_email = Varchar(length=254, default="")
