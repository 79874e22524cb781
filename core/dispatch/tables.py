"""Dispatch tables: vendor connections, EDRs (one per message attempt), campaign batches and early reports."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class VendorConnection(Table, tablename="vendor_connection"):
    """A connection to a vendor of one channel, configured by the owner (host, credentials, throughput…)."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    channel = Varchar(length=40)
    name = Varchar(length=80, unique=True)
    settings = JSON(default={}, help_text="The channel plugin's settings Struct, as JSON")
    enabled = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz(help_text="Workers rebind a channel when its connections changed")


class Edr(Table, tablename="edr"):
    """One message attempt. Plain integer references, no foreign keys: millions are COPYed per campaign.

    ``status`` is deliberately not indexed, so status updates stay HOT on PostgreSQL (notes/performance.md T3).
    Reports find EDRs through the composite index ``edr_vendor_message_id_connection`` (a migration's raw DDL:
    piccolo columns index one column each).
    """

    id = BigSerial(primary_key=True)
    partner = Integer()
    campaign = Integer(null=True, default=None)
    batch = Integer(null=True, default=None, help_text="campaign_batch id")
    transaction_id = Varchar(length=36, default="")
    api_key = Integer(null=True, default=None, help_text="api_key id of a message sent through the public API")
    client_ref = Varchar(length=64, default="", help_text="The API caller's own reference, echoed in callbacks")
    channel = Varchar(length=40)
    sender = Varchar(length=15)
    destination = Varchar(length=15)
    text = Text(null=True, default=None, help_text="Rendered text when it differs from the campaign's")
    parts = SmallInt(default=1)
    country_iso = Varchar(length=2, default="")
    country = Varchar(length=60, default="")
    mccmnc = Varchar(length=6, default="")
    network = Varchar(length=80, default="")
    rate = BigInt(null=True, default=None, help_text="Micro-units per part; none = no rate for destination")
    price = BigInt(default=0, help_text="rate times parts")
    charge_on_delivery = Boolean(default=False)
    status = Varchar(length=12, help_text="PREPARED, BILLED, SENT, DELIVERED, UNDELIVERED, FAILED, SEEN")
    error = Varchar(length=200, default="")
    vendor_status = Varchar(length=20, default="")
    vendor_message_id = Varchar(length=65, null=True, default=None)
    connection = Integer(null=True, default=None, help_text="vendor_connection id, where vendor ids are per connection")
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    cascaded = Boolean(default=False, help_text="Handed on to the cascade's next step (CMP-7)")
    pack = Integer(null=True, default=None, help_text="pack_purchase id whose units pay for it (BIL-4), once billed")


class EdrPart(Table, tablename="edr_part"):
    """The vendor ids of a multipart SMS's parts: the message is delivered only when every part is.

    Indexed by (vendor_message_id, connection) like the EDR.
    """

    id: Serial

    edr = BigInt(index=True)
    vendor_message_id = Varchar(length=65)
    connection = Integer(null=True, default=None, help_text="vendor_connection id, as on the EDR")
    state = Varchar(length=12, default="", help_text="The part's final vendor state, once reported")


class CampaignBatch(Table, tablename="campaign_batch"):
    """≤ 500 EDRs of a campaign, claimed by one worker with a conditional update.

    ready → billed (money taken, in the claim's transaction) → submitting (committed before the first
    submit_sm) → done. A dead worker's ``billed`` batch is released; its ``submitting`` one fails with
    "submission outcome unknown" and is refunded (DSP-3).
    """

    id: Serial

    campaign = Integer(index=True)
    state = Varchar(length=12, default="ready")
    size = Integer()
    amount = BigInt(default=0, help_text="Micro-units taken when billed")
    worker = Varchar(length=40, default="")
    claimed_at = Timestamptz(null=True, default=None)
    zone = Varchar(length=40, default="", help_text="Its recipients' time zone, when the campaign has quiet hours")


class EarlyReport(Table, tablename="early_report"):
    """A delivery report that arrived before the submit response was stored; applied once it is.

    Indexed by (vendor_message_id, connection) like the EDR.
    """

    id: Serial

    channel = Varchar(length=40)
    vendor_message_id = Varchar(length=65)
    connection = Integer(null=True, default=None, help_text="vendor_connection id the report arrived on")
    state = Varchar(length=12)
    vendor_status = Varchar(length=20, default="")
    error_code = Varchar(length=20, default="")
    done_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz()


class InboundRecord(Table, tablename="inbound_message"):
    """An MO message as a channel received it, tied to the partner whose sender ID it was sent to when known."""

    id: Serial

    partner = Integer(null=True, default=None, help_text="The partner the MO is for; none when no sender ID matched")
    channel = Varchar(length=40)
    source = Varchar(length=20)
    destination = Varchar(length=20)
    text = Text()
    vendor_message_id = Varchar(length=65, default="")
    received_at = Timestamptz()
    # Claimed ("…") before an auto-reply is sent, so a retried job never answers twice; then what happened.
    reply = Varchar(length=200, default="", help_text="The auto-reply's transaction id, or why none was sent")


class CallbackOutbox(Table, tablename="callback_outbox"):
    """A callback to a customer's URL, written in the transaction that changed what it reports (at least once).

    pending → delivered (a 2xx answer) or expired (no 2xx within a day). ``next_attempt_at`` doubles as the claim:
    a worker moves it a lease ahead when it takes the row, so a row whose worker died is due again afterwards.
    """

    id = BigSerial(primary_key=True)
    partner = Integer()
    api_key = Integer(null=True, default=None, index=True, help_text="api_key id whose callback URL this is")
    event = Varchar(length=12, help_text="The reported status, or MO")
    transaction_id = Varchar(length=36, default="")
    url = Varchar(length=500)
    body = Text(help_text="The exact JSON posted (and signed)")
    # Indexed: claims and the backlog gauge read the few pending rows among a month of finished ones.
    state = Varchar(length=10, default="pending", index=True, help_text="pending, delivered or expired")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    last_attempt_at = Timestamptz(null=True, default=None)
    last_status = Integer(null=True, default=None, help_text="HTTP status of the last answer, none if no answer")
    last_error = Varchar(length=200, default="")
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)


class MoExpectation(Table, tablename="mo_expectation"):
    """An API message sent with acceptMO: for a while, MO from its number to its sender ID go to its API key's
    callback URL (guide 13.3.2) instead of the Callback Settings. Written with the message, read per MO by slot."""

    id: Serial

    slot = Varchar(length=120, unique=True, help_text='"<partner>:<channel>:<sender>:<number>"; the newest wins')
    api_key = Integer(help_text="api_key id whose callback URL receives the MO")
    expires_at = Timestamptz(index=True)


class MoRoute(Table, tablename="mo_route"):
    """Callback Settings (MO-4): where a partner's MO messages are posted, per sender ID or by default.

    The default row (``sender`` empty) also holds the secret that signs the partner's MO callbacks.
    """

    id: Serial

    partner = Integer(index=True)
    sender = Varchar(length=15, default="", help_text="A sender ID of the partner; empty for the default URL")
    slot = Varchar(length=40, unique=True, help_text='"<partner>:<sender>": one URL per sender ID')
    url = Varchar(length=500, default="")
    secret = Varchar(length=64, default="", help_text="Signs MO callbacks (default row only); shown once")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class EdrCharge(Table, tablename="edr_charge"):
    """What one level above the sender (a reseller) is charged for one message: the chain's per-message record.

    Written with the EDR (one row per message per charged level); reservations, releases and late charges at that
    level sum these rows, so every level's money and margin are exact. No foreign keys: COPYed like EDRs.
    """

    id = BigSerial(primary_key=True)
    edr = BigInt(index=True)
    partner = Integer(help_text="The charged level (a partner above the EDR's partner)")
    ledger_entry = Integer(help_text="The level's ledger row the money is booked on")
    price = BigInt(help_text="Micro-units: the level's rate times the message's parts")
    pack = Integer(null=True, default=None, help_text="pack_purchase id of the level's that pays instead, once billed")


class CampaignLevel(Table, tablename="campaign_level"):
    """A campaign's ledger row at one level above its partner (BIL-7: one Campaign row per campaign per level)."""

    id: Serial

    slot = Varchar(length=40, unique=True, help_text="'<campaign id>:<partner id>'")
    campaign = Integer(index=True)
    partner = Integer()
    depth = SmallInt(help_text="1 for the sender's parent, 2 above it, …")
    ledger_entry = Integer()
