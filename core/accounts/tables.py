"""Account tables: the users of partners."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from core.tenancy.tables import Partner


class User(Table, tablename="portal_user"):
    """A person who signs in; belongs to one partner with the role admin or operator (ACC-7)."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict)
    email = Varchar(length=254, unique=True, help_text="Stored lower-case")
    password_hash = Varchar(length=200)
    first_name = Varchar(length=60)
    last_name = Varchar(length=60)
    role = Varchar(length=10, default="admin", help_text="admin or operator")
    active = Boolean(default=True)
    language = Varchar(length=2, default="en")
    theme = Varchar(length=5, default="light", help_text="light or dark")
    low_balance_alert = BigInt(
        null=True, default=None, help_text="Micro-units; a banner warns while the company's balance is below it"
    )
    date_format = Varchar(length=20, default="YYYY-MM-DD")
    timezone = Varchar(length=60, default="UTC")
    totp_secret = Varchar(length=64, default="")
    totp_confirmed = Boolean(default=False, help_text="The user proved the secret works with a first code")
    totp_last_step = BigInt(default=0, help_text="Time step of the last accepted code: a code works once")
    custom_fields = JSON(default={}, help_text="Values of the portal's custom registration fields")
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class AccountToken(Table, tablename="account_token"):
    """A single-use, expiring link sent by e-mail: confirm a sign-up or reset a password."""

    id: Serial

    user = ForeignKey(references=User, on_delete=OnDelete.cascade)
    purpose = Varchar(length=10, help_text="confirm or reset")
    token_hash = Varchar(length=64, unique=True, help_text="SHA-256 of the token; the token itself is only mailed")
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class ApiKey(Table, tablename="api_key"):
    """A partner's key for the REST API (API-1); only its hash is stored."""

    id: Serial

    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade)
    name = Varchar(length=60)
    prefix = Varchar(length=12, help_text="First characters, shown in lists so people can tell keys apart")
    key_hash = Varchar(length=64, unique=True)
    callback_url = Varchar(length=500, default="")
    callback_secret = Varchar(length=64, default="", help_text="Signs callbacks (HMAC); shown once when made")
    click_callbacks = Boolean(default=False, help_text="Clicks on the company's short links are posted to the URL too")
    period = Varchar(length=8, help_text="1d, 7d, 30d, 3m, 1y or never; refresh extends by it")
    expires_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
