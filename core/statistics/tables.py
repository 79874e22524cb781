"""Statistics tables: EDR export tasks (STA-2, STA-3)."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Integer, Serial, Timestamptz, Varchar
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
