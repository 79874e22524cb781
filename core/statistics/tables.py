"""Statistics tables: EDR export tasks (STA-2, STA-3) and the dashboard's rollups (DSH-2)."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, BigSerial, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class ExportTask(Table, tablename="export_task"):
    """One export of a partner's EDRs: what to write, how far it got, and where the file is until it expires."""

    id: Serial

    partner = Integer(index=True)
    user_id = Integer(help_text="Who asked for it; the file honours this user's date format and time zone")
    user_email = Varchar(length=254)
    filters = JSON(default={}, help_text="The EDR filter, as the API takes it")
    columns = JSON(default=[], help_text="Chosen column keys, in order")
    file_format = Varchar(length=4, help_text="csv or xlsx")
    delivery = Varchar(length=8, help_text="download or email")
    status = Varchar(length=10, help_text="waiting, ready, sent, cancelled, failed or expired")
    total = Integer(default=0, help_text="Records the filter matched when the task was made")
    written = Integer(default=0, help_text="Records written so far (progress)")
    file_path = Varchar(length=300, default="", help_text="Under var/exports; empty until ready or once removed")
    file_size = BigInt(default=0)
    error = Varchar(length=300, default="")
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None, help_text="When the file is removed")


class EdrRollup(Table, tablename="edr_rollup"):
    """Messages and their cost per (partner, UTC hour, channel, status, sender ID, country) (DSH-2).

    Never written from Python per message: triggers on ``edr`` append signed deltas to ``edr_rollup_delta`` and the
    ``fold_edr_rollups`` cron adds them in here. A unique index over the key (a migration's raw DDL) lets the fold
    ``INSERT … ON CONFLICT DO UPDATE``. Hours are UTC, so any time zone's whole-hour day is a sum of them.
    """

    partner = Integer()
    hour = Timestamptz()
    channel = Varchar(length=40)
    status = Varchar(length=12)
    sender = Varchar(length=15)
    country_iso = Varchar(length=2)
    messages = BigInt(default=0)
    cost = BigInt(default=0, help_text="Sum of the EDRs' price, micro-units")


class EdrRollupDelta(Table, tablename="edr_rollup_delta"):
    """Signed changes to ``edr_rollup`` written by the ``edr`` triggers (+1 a new status, -1 the old one, a cost
    change), waiting to be folded. Reads add the unfolded ones, so the numbers are exact at any moment."""

    id = BigSerial(primary_key=True)
    partner = Integer()
    hour = Timestamptz()
    channel = Varchar(length=40)
    status = Varchar(length=12)
    sender = Varchar(length=15)
    country_iso = Varchar(length=2)
    messages = BigInt(default=0)
    cost = BigInt(default=0)


class EdrRollupStatus(Table, tablename="edr_rollup_status"):
    """``edr_rollup`` summed over sender ID and country: per (partner, UTC hour, channel, status), what the dashboard's
    graphs read. Its size grows with hours and partners, not with traffic (a partner's 90 days are at most 2,160
    hours by its channels by statuses), so a graph answers alike at 1 or 10 million EDRs. Folded in the same
    statement as ``edr_rollup``."""

    partner = Integer()
    hour = Timestamptz()
    channel = Varchar(length=40)
    status = Varchar(length=12)
    messages = BigInt(default=0)
    cost = BigInt(default=0, help_text="Sum of the EDRs' price, micro-units")
