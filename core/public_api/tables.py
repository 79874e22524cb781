"""Public API tables: the accepted /api/send_sms requests, which their send job reads."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class ApiRequest(Table, tablename="api_request"):
    """The messages of one accepted request that share a label and flash setting; their EDRs carry ``campaign``
    NULL and ``batch`` = this id.

    accepted (EDRs written and paid) → done (every EDR handed to its channel). The send job reads it by id.
    """

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = Integer(index=True)
    api_key = Integer(help_text="api_key id the request came with")
    label = Varchar(length=100, default="")
    flash = Boolean(default=False)
    ledgers = JSON(default={}, help_text="channel → the API ledger row its money moves on (BIL-7)")
    messages = Integer(default=0)
    state = Varchar(length=12, default="accepted", help_text="accepted or done")
    job = Varchar(length=80, default="", index=True, help_text="Key of the send job; shared by one HTTP request's rows")
    created_at = Timestamptz()
