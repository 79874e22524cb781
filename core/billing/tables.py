"""Billing tables: the ledger, one row per balance change (BIL-7)."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from core.tenancy.tables import Partner


class LedgerEntry(Table, tablename="ledger_entry"):
    """A balance change of a partner, written in the same transaction as the balance update."""

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
