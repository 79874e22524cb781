"""Public API tables: the accepted /api/send_sms requests, which their send job reads, and cascade attempts that
wait to be handed on to their next channel."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class ApiRequest(Table, tablename="api_request"):
    """The messages of one accepted request that share a label, flash setting and content (a WhatsApp template);
    their EDRs carry ``campaign`` NULL and ``batch`` = this id.

    accepted (EDRs written and paid) → done (every EDR handed to its channel). The send job reads it by id.
    """

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = Integer(index=True)
    api_key = Integer(help_text="api_key id the request came with")
    label = Varchar(length=100, default="")
    flash = Boolean(default=False)
    ledgers = JSON(default={}, help_text="channel → the API ledger row its money moves on (BIL-7)")
    messages = Integer(default=0)
    content = JSON(default={}, help_text="The channel's content besides the text: a WhatsApp template")
    state = Varchar(length=12, default="accepted", help_text="accepted or done")
    job = Varchar(length=80, default="", index=True, help_text="Key of the send job; shared by one HTTP request's rows")
    created_at = Timestamptz()


class ApiCascade(Table, tablename="api_cascade"):
    """An API message attempt whose cascade has further channels (``channels``/``fallbackTtl`` of /api/send_sms).

    Written with the attempt's EDR. The API's hand-over pass (``core.public_api.cascade``) takes the attempts that
    ended undelivered or failed, or are still only sent ``ttl`` seconds after they left: in one transaction it marks
    their EDRs ``cascaded``, deletes these rows and writes the next channel's attempts (with rows of their own when
    channels remain). Rows of delivered or seen attempts are deleted by the same pass.
    """

    id: Serial

    edr = BigInt(unique=True, help_text="The attempt's EDR id")
    partner = Integer()
    channels = Varchar(length=120, help_text="The channels still to try, in order, comma-separated")
    ttl = Integer(help_text="Seconds the attempt has to be delivered before the next channel (fallbackTtl)")
    label = Varchar(length=100, default="")
    accept_mo = Boolean(default=False)
    created_at = Timestamptz()
