"""Outgoing e-mail: render a template in the tenant's brand, store it, deliver it through SMTP_URL or keep it."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from jinja2 import Environment

from core.errors import InvalidInput, NotFound
from core.mail.schemas import MailDetail, MailSummary, RenderedMail, SmtpTarget
from core.mail.tables import MailMessage
from core.tenancy.tables import PortalHost, PortalRecord
from core.web.i18n import LANGUAGES
from core.web.pagination import Page, paginate
from core.web.templating import environment
from core.web.themes import load_theme

if TYPE_CHECKING:
    from core.portal import Portal
    from core.settings import Settings
    from core.tenancy.resolver import PortalContext

log = logging.getLogger(__name__)

DELIVERY_TASK = "deliver_mail"
# saq's defaults (10 s, no retry) would drop a message at the first busy relay.
DELIVERY_OPTIONS: dict[str, Any] = {"timeout": 60, "retries": 5, "retry_delay": 5.0, "retry_backoff": True}
# Below the job's timeout, so a hanging server ends as a recorded failure rather than a cancelled job.
SMTP_TIMEOUT = 30.0
OUTBOX_PER_PAGE = 50
_TRUE = {"1", "true", "yes", "on"}


# Rendering ----------------------------------------------------------------------------------------------------
@cache
def _plain(env: Environment) -> Environment:
    """The same templates without HTML escaping, for the subject and the text part ('&' must stay '&')."""
    # Its own template cache: templates compiled by the escaping parent must not be reused here.
    return env.overlay(autoescape=False, cache_size=400)


def render_mail(
    template: str, context: dict[str, Any], *, language: str = "en", site: PortalContext | None = None
) -> RenderedMail:
    """Run mail/<template>.subject.txt, .txt and .html in the site's theme and language."""
    theme = load_theme(site.theme if site else "default")
    env = environment(theme.slug, language)
    values = {"brand_name": site.brand_name if site else theme.brand_name, "theme": theme, "site": site, **context}
    subject = _plain(env).get_template(f"mail/{template}.subject.txt").render(values)
    return RenderedMail(
        # A header is one line: whatever the template's line breaks, the subject is its words joined.
        subject=" ".join(subject.split()),
        text=_plain(env).get_template(f"mail/{template}.txt").render(values).strip() + "\n",
        html=env.get_template(f"mail/{template}.html").render(values),
    )


def _check_address(to: str) -> str:
    to = to.strip()
    address = parseaddr(to)[1]
    if not address or "@" not in address or address != to or len(to) > 254 or any(c in to for c in "\r\n,;<> "):
        raise InvalidInput("Not a single e-mail address", field="to")
    return address


async def send_mail(
    portal: Portal,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str = "en",
    site: PortalContext | None = None,
    partner_id: int | None = None,
    attachment: Path | None = None,
    attachment_name: str = "",
) -> int:
    """Render mail/<template>.subject.txt, mail/<template>.txt and mail/<template>.html in the site's theme
    (site.theme, else "default") and language, store the message, enqueue its delivery; return its id.
    ``attachment`` is a file read when the message is delivered, so it must outlive the delivery's retries.
    Call it after the transaction of the change it reports has committed."""
    address = _check_address(to)
    language = language if language in LANGUAGES else "en"
    rendered = render_mail(template, context, language=language, site=site)
    rows = await MailMessage.insert(
        MailMessage(
            portal_id=site.id if site else None,
            partner_id=partner_id,
            to_address=address,
            subject=rendered.subject[:300],
            text_body=rendered.text,
            html_body=rendered.html,
            template=template,
            language=language,
            status="queued",
            attempts=0,
            last_error="",
            attachment_path=str(attachment) if attachment else "",
            attachment_name=(attachment_name or attachment.name)[:200] if attachment else "",
            created_at=datetime.now(UTC),
            sent_at=None,
        )
    ).returning(MailMessage.id)
    mail_id = int(rows[0]["id"])
    # The job carries the id only; the row is the truth, so a lost job leaves a visible "queued" message.
    await portal.enqueue(DELIVERY_TASK, mail_id=mail_id, key=f"mail:{mail_id}", **DELIVERY_OPTIONS)
    return mail_id


# Delivery -----------------------------------------------------------------------------------------------------
def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:pass@]host[:port][?starttls=1&from=addr]`` or ``smtps://…`` (TLS from the first byte).

    Raises:
        ValueError: naming what is wrong with the URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"SMTP_URL: unsupported scheme {parts.scheme!r} (use smtp:// or smtps://)")
    if not parts.hostname:
        raise ValueError("SMTP_URL: no host name")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    implicit_tls = parts.scheme == "smtps"
    starttls = query.get("starttls", "").strip().lower()
    from_address = query.get("from", "").strip()
    if from_address and "@" not in parseaddr(from_address)[1]:
        raise ValueError("SMTP_URL: from= is not an e-mail address")
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        start_tls=False if implicit_tls else (None if not starttls else starttls in _TRUE),
        from_address=parseaddr(from_address)[1] if from_address else "",
    )


async def _sender(portal_id: int | None, target: SmtpTarget) -> tuple[str, str]:
    """(From header, envelope address): the portal's brand as the name, from= or no-reply@<its first host>."""
    theme_slug, brand = "default", ""
    host = "localhost"
    if portal_id is not None:
        record = await PortalRecord.select(PortalRecord.brand_name, PortalRecord.theme).where(
            PortalRecord.id == portal_id
        )
        if record:
            brand, theme_slug = record[0]["brand_name"], record[0]["theme"]
        first = (
            await PortalHost.select(PortalHost.host)
            .where(PortalHost.portal == portal_id)
            .order_by(PortalHost.id)
            .first()
        )
        if first:
            host = first["host"]
    address = target.from_address or f"no-reply@{host}"
    return formataddr((brand or load_theme(theme_slug).brand_name, address)), address


def _message(row: MailMessage, from_header: str, address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_header
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=f"mail{row.id}", domain=address.rsplit("@", 1)[1])
    message["Content-Language"] = row.language
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office robots should not answer
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    if row.attachment_path:
        # A missing file raises: the delivery is recorded as failed rather than sent without what it announces.
        path = Path(row.attachment_path)
        kind = mimetypes.guess_type(row.attachment_name or path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=row.attachment_name or path.name
        )
    return message


async def deliver(settings: Settings, mail_id: int, *, final_attempt: bool) -> str:
    """Send stored message ``mail_id`` once; returns its status afterwards.

    Raises:
        Exception: whatever the SMTP conversation raised, after recording it on the row, so the job retries.
    """
    row = await MailMessage.objects().where(MailMessage.id == mail_id).first()
    if row is None:
        return "missing"
    if row.status == "sent":
        return "sent"  # a retried or repeated job must not send a second copy
    if not settings.smtp_url:
        if not settings.dev:
            log.warning("SMTP_URL is empty: mail %s to %s stays in the outbox", mail_id, row.to_address)
        await MailMessage.update({MailMessage.status: "outbox"}).where(MailMessage.id == mail_id)
        return "outbox"
    try:
        target = parse_smtp_url(settings.smtp_url)
        from_header, address = await _sender(row.portal_id, target)
        await aiosmtplib.send(
            await asyncio.to_thread(_message, row, from_header, address),
            sender=address,
            recipients=[row.to_address],
            hostname=target.hostname,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=SMTP_TIMEOUT,
        )
    except Exception as exc:
        await MailMessage.update(
            {
                MailMessage.attempts: MailMessage.attempts + 1,
                MailMessage.last_error: f"{type(exc).__name__}: {exc}"[:2000],
                MailMessage.status: "failed" if final_attempt else "queued",
            }
        ).where(MailMessage.id == mail_id)
        raise
    # Recorded at once: from here on, a repeat of the job finds "sent" and stops.
    await MailMessage.update(
        {
            MailMessage.status: "sent",
            MailMessage.sent_at: datetime.now(UTC),
            MailMessage.attempts: MailMessage.attempts + 1,
        }
    ).where(MailMessage.id == mail_id)
    return "sent"


# The dev outbox -----------------------------------------------------------------------------------------------
# Unscoped on purpose: only /dev/outbox reads these, and it answers 404 unless PORTAL_DEV is on.
async def list_outbox(*, page: int = 1, per_page: int = OUTBOX_PER_PAGE) -> Page[MailSummary]:
    """Every stored message, newest first."""
    found = await paginate(
        MailMessage.select(
            MailMessage.id,
            MailMessage.to_address,
            MailMessage.subject,
            MailMessage.status,
            MailMessage.attempts,
            MailMessage.created_at,
            MailMessage.sent_at,
        ).order_by(MailMessage.id, ascending=False),
        page=page,
        per_page=per_page,
    )
    return found.with_items([MailSummary(**r) for r in found.items])


async def get_mail(mail_id: int) -> MailDetail:
    row = await MailMessage.select().where(MailMessage.id == mail_id).first()
    if row is None:
        raise NotFound("Message")
    return MailDetail(**row)
