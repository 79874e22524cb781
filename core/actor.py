"""The signed-in user as every layer sees it (a plain value, so the web kit can take it without knowing tenancy)."""

from __future__ import annotations

from typing import Literal

import msgspec

PartnerKind = Literal["owner", "reseller", "end_user"]
Role = Literal["admin", "operator"]


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in user as every service sees it; the scope of all its queries comes from here."""

    user_id: int
    email: str
    first_name: str
    last_name: str
    role: Role
    partner_id: int
    partner_name: str
    partner_kind: PartnerKind
    partner_path: str
    currency: str
    portal_id: int
    language: str = "en"
    theme: str = "light"
    date_format: str = "YYYY-MM-DD"
    timezone: str = "UTC"
    short_domains: tuple[str, ...] = ()  # the short domains its partner may use (URL-1); empty hides the shortener

    @property
    def is_partner_manager(self) -> bool:
        """Owner and reseller users use the Admin Panel."""
        return self.partner_kind in ("owner", "reseller")

    @property
    def is_owner(self) -> bool:
        """A user of the system owner, who keeps the numbering book, vendor connections and sender IDs."""
        return self.partner_kind == "owner"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email
