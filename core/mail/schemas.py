"""Mail Structs: a rendered message, the SMTP target of SMTP_URL, and outbox rows as pages show them."""

from __future__ import annotations

from datetime import datetime

import msgspec


class RenderedMail(msgspec.Struct, frozen=True, kw_only=True):
    """The three parts of a message after its templates ran."""

    subject: str
    text: str
    html: str


class SmtpTarget(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how to deliver, parsed from SMTP_URL."""

    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    # None: STARTTLS when the server offers it (aiosmtplib's default); True: required; False: never.
    start_tls: bool | None = None
    from_address: str = ""


class MailSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the outbox list."""

    id: int
    to_address: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class MailDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A whole stored message, as the outbox shows it."""

    id: int
    portal_id: int | None
    partner_id: int | None
    to_address: str
    subject: str
    text_body: str
    html_body: str
    template: str
    language: str
    status: str
    attempts: int
    last_error: str
    attachment_path: str = ""
    attachment_name: str = ""
    created_at: datetime
    sent_at: datetime | None
