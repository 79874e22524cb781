"""Account tables: the users of partners."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from core.tenancy.tables import Partner


class User(Table, tablename="portal_user"):
    """A person who signs in; belongs to one partner with the role admin or operator (ACC-7)."""

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict)
    email = Varchar(length=254, unique=True, help_text="Stored lower-case")
    password_hash = Varchar(length=200)
    first_name = Varchar(length=60)
    last_name = Varchar(length=60)
    role = Varchar(length=10, default="admin", help_text="admin or operator")
    active = Boolean(default=True)
    language = Varchar(length=2, default="en")
    theme = Varchar(length=5, default="light", help_text="light or dark")
    date_format = Varchar(length=20, default="YYYY-MM-DD")
    timezone = Varchar(length=60, default="UTC")
    totp_secret = Varchar(length=64, default="")
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)
