"""Account Structs: users as they are created, shown and signed in."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.actor import Role
from core.money import check_amount
from core.tenancy.schemas import Email

PersonName = Annotated[str, Meta(min_length=1, max_length=60)]
Password = Annotated[str, Meta(min_length=10, max_length=200, description="At least 10 characters")]


class UserCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    first_name: PersonName
    last_name: PersonName
    password: Password
    role: Role = "admin"
    language: Literal["en", "es", "ru", "tr"] = "en"


class UserView(msgspec.Struct, kw_only=True):
    id: int
    partner_id: int
    email: str
    first_name: str
    last_name: str
    role: Role
    active: bool
    language: str
    created_at: datetime
    last_login_at: datetime | None


class SignIn(msgspec.Struct, kw_only=True):
    email: Annotated[str, Meta(min_length=1, max_length=254)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]
    next: str = "/"


class ApiToken(msgspec.Struct, kw_only=True):
    token: str
    token_type: str
    expires_at: datetime


class ProfileUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a user changes about itself under Account settings > My account."""

    first_name: PersonName
    last_name: PersonName
    date_format: Literal["YYYY-MM-DD", "DD.MM.YYYY", "DD/MM/YYYY", "MM/DD/YYYY"] = "YYYY-MM-DD"
    timezone: Annotated[str, Meta(min_length=1, max_length=60)] = "UTC"
    theme: Literal["light", "dark"] = "light"
    language: Literal["en", "es", "ru", "tr"] = "en"
    low_balance_alert: Decimal | None = None

    def __post_init__(self) -> None:
        if self.low_balance_alert is not None:
            check_amount(self.low_balance_alert, "low_balance_alert")
