"""X-3: e-mail rendered in the portal's brand, delivered to a real SMTP server on loopback, or kept in the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import msgspec
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from litestar import Litestar
from redis.asyncio import Redis

from core.accounts.bootstrap import create_owner
from core.accounts.schemas import UserCreate
from core.app import create_app
from core.errors import InvalidInput
from core.mail.jobs import deliver_mail
from core.mail.services import send_mail
from core.mail.tables import MailMessage
from core.portal import Portal
from core.settings import Settings
from core.tenancy.resolver import PortalContext, resolver
from core.tenancy.schemas import PortalCreate
from core.tenancy.services import create_portal
from tests.ports import free_port
from tests.redis_dbs import MAIL, side_db

# A Redis database of its own: the session app's worker (which has no SMTP_URL) must not take these jobs.


class Inbox:
    """An aiosmtpd handler that keeps what arrives: the envelope and the parsed message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(smtp_port: int, inbox: Inbox) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield controller
    controller.stop()


@asynccontextmanager
async def running(
    settings: Settings, *, smtp_url: str = "", dev: bool = False, run_worker: bool = True
) -> AsyncIterator[Litestar]:
    """An app of its own with its own worker on its own Redis database, for the length of the block."""
    own = msgspec.structs.replace(settings, smtp_url=smtp_url, dev=dev, redis_url=side_db(settings.redis_url, MAIL))
    redis = Redis.from_url(own.redis_url)
    await redis.flushdb()
    app = create_app(own, run_worker=run_worker, db_pool=False)
    ready, done = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        # Enter and leave the lifespan in one task: anyio cancel scopes must not change task.
        async with app.lifespan():
            ready.set()
            await done.wait()

    task = asyncio.create_task(hold())
    await ready.wait()
    try:
        yield app
    finally:
        done.set()
        await task
        await redis.flushdb()
        await redis.aclose()


async def make_site(theme: str = "skyline", brand: str = "Sky Tours") -> PortalContext:
    owner = await create_owner(
        "Owner Co", "EUR", UserCreate(email="owner@mail.test", first_name="O", last_name="W", password="x" * 12)
    )
    await create_portal(
        owner,
        PortalCreate(
            slug="sky", brand_name=brand, theme=theme, hosts=["sky.test", "www.sky.test"], help_email="help@sky.test"
        ),
    )
    site = await resolver.resolve("sky.test")
    assert site is not None
    return site


async def wait_for_status(mail_id: int, statuses: set[str], seconds: float = 15.0) -> dict[str, Any]:
    for _ in range(int(seconds / 0.05)):
        row = await MailMessage.select().where(MailMessage.id == mail_id).first()
        if row and row["status"] in statuses:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"mail {mail_id} never reached {statuses}: {row}")


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


async def saq_job(portal: Portal, mail_id: int, attempt: int) -> Any:
    """The real queued job of a message, at the attempt number saq's worker would give it."""
    job = await portal.queue.job(f"mail:{mail_id}")
    assert job is not None
    job.attempts = attempt
    return job


async def test_mail_arrives_in_the_portals_brand_with_text_and_html(settings, smtp_server, smtp_port, inbox):
    site = await make_site()
    async with running(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}") as app:
        mail_id = await send_mail(
            app.state.portal,
            to="ann@example.test",
            template="test_message",
            context={"name": "Ann & Bob", "url": "https://sky.test/"},
            site=site,
            partner_id=site.partner_id,
        )
        row = await wait_for_status(mail_id, {"sent", "failed"})
    assert row["status"] == "sent" and row["sent_at"] is not None and row["attempts"] == 1
    assert row["portal_id"] == site.id and row["partner_id"] == site.partner_id
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "ann@example.test"
    assert message["Subject"] == "Test message from Sky Tours"
    # The portal's brand as sender name, its first host name as the domain.
    assert message["From"] == "Sky Tours <no-reply@sky.test>"
    assert inbox.envelopes[0] == ("no-reply@sky.test", ["ann@example.test"])
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    assert "Hello Ann & Bob," in body["text/plain"] and "https://sky.test/" in body["text/plain"]
    assert "Sky Tours" in body["text/plain"] and "help@sky.test" in body["text/plain"]
    html = body["text/html"]
    assert "Sky Tours" in html and "Hello Ann &amp; Bob," in html
    assert "#c2410c" in html  # the skyline theme's primary colour, inline
    assert 'href="https://sky.test/"' in html


async def test_mail_without_a_portal_uses_the_default_look_and_from_address(settings, smtp_server, smtp_port, inbox):
    url = f"smtp://127.0.0.1:{smtp_port}?from=robot%40mail.example.test"
    async with running(settings, smtp_url=url) as app:
        mail_id = await send_mail(app.state.portal, to="ops@example.test", template="test_message", context={})
        await wait_for_status(mail_id, {"sent", "failed"})
    message = inbox.messages[0]
    assert message["Subject"] == "Test message from Campaign Portal"
    assert message["From"] == "Campaign Portal <robot@mail.example.test>"
    html = parts(message)["text/html"]
    assert "Campaign Portal" in html and "#2563eb" in html


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_user_and_password_of_smtp_url_sign_in_to_the_server(settings, smtp_port, inbox):
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"mailer" and auth_data.password == b"p@ss:w/rd")

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=smtp_port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # loopback test server without a certificate
    )
    controller.start()
    try:
        # Special characters of the password are percent-encoded in the URL.
        url = f"smtp://mailer:p%40ss%3Aw%2Frd@127.0.0.1:{smtp_port}"
        async with running(settings, smtp_url=url) as app:
            mail_id = await send_mail(app.state.portal, to="ann@example.test", template="test_message", context={})
            row = await wait_for_status(mail_id, {"sent", "failed"})
    finally:
        controller.stop()
    assert row["status"] == "sent" and logins == [(b"mailer", b"p@ss:w/rd")] and len(inbox.messages) == 1


async def test_a_sent_message_is_never_sent_twice(settings, smtp_server, smtp_port, inbox):
    site = await make_site()
    async with running(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}", run_worker=False) as app:
        portal = app.state.portal
        mail_id = await send_mail(portal, to="ann@example.test", template="test_message", context={}, site=site)
        job = await saq_job(portal, mail_id, attempt=1)
        assert (job.timeout, job.retries) == (60, 5)
        assert await deliver_mail({"portal": portal, "job": job}, mail_id=mail_id) == "sent"
        # The same job again (a retry after a lost acknowledgement, a second worker): nothing more goes out.
        assert await deliver_mail({"portal": portal, "job": job}, mail_id=mail_id) == "sent"
        # Enqueueing its key again is refused while saq still knows the job.
        assert await portal.queue.enqueue("deliver_mail", mail_id=mail_id, key=f"mail:{mail_id}") is None
    assert len(inbox.messages) == 1
    row = await MailMessage.select().where(MailMessage.id == mail_id).first()
    assert row["status"] == "sent" and row["attempts"] == 1


async def test_server_down_keeps_the_message_queued_until_it_comes_up(settings, smtp_port, inbox):
    site = await make_site()
    async with running(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}", run_worker=False) as app:
        portal = app.state.portal
        mail_id = await send_mail(portal, to="ann@example.test", template="test_message", context={}, site=site)
        with pytest.raises(aiosmtplib.SMTPConnectError):
            await deliver_mail({"portal": portal, "job": await saq_job(portal, mail_id, 1)}, mail_id=mail_id)
        row = await MailMessage.select().where(MailMessage.id == mail_id).first()
        assert row["status"] == "queued" and row["attempts"] == 1 and row["sent_at"] is None
        assert "SMTPConnectError" in row["last_error"]

        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            result = await deliver_mail({"portal": portal, "job": await saq_job(portal, mail_id, 2)}, mail_id=mail_id)
        finally:
            controller.stop()
    assert result == "sent" and len(inbox.messages) == 1
    assert inbox.messages[0]["Subject"] == "Test message from Sky Tours"
    row = await MailMessage.select().where(MailMessage.id == mail_id).first()
    assert row["status"] == "sent" and row["attempts"] == 2 and row["sent_at"] is not None


async def test_last_retry_failing_marks_the_message_failed(settings, smtp_port):
    async with running(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}", dev=True, run_worker=False) as app:
        portal = app.state.portal
        mail_id = await send_mail(portal, to="ann@example.test", template="test_message", context={})
        job = await saq_job(portal, mail_id, 5)
        assert job.attempts == job.retries  # saq gives up after this run
        with pytest.raises(aiosmtplib.SMTPConnectError):
            await deliver_mail({"portal": portal, "job": job}, mail_id=mail_id)
    row = await MailMessage.select().where(MailMessage.id == mail_id).first()
    assert row["status"] == "failed" and row["attempts"] == 1 and row["last_error"]


async def test_without_smtp_url_dev_outbox_lists_and_shows_the_message(settings):
    site = await make_site()
    async with running(settings, smtp_url="", dev=True) as app:
        mail_id = await send_mail(
            app.state.portal, to="ann@example.test", template="test_message", context={"name": "Ann"}, site=site
        )
        row = await wait_for_status(mail_id, {"outbox", "sent", "failed"})
        assert row["status"] == "outbox" and row["sent_at"] is None
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://sky.test") as client:
            listing = await client.get("/dev/outbox")
            detail = await client.get(f"/dev/outbox/{mail_id}")
            missing = await client.get(f"/dev/outbox/{mail_id + 1}")
    assert listing.status_code == 200
    assert "ann@example.test" in listing.text and "Test message from Sky Tours" in listing.text
    assert ">outbox</span>" in listing.text and f'href="/dev/outbox/{mail_id}"' in listing.text
    assert detail.status_code == 200
    assert "ann@example.test" in detail.text and "Test message from Sky Tours" in detail.text
    assert "Hello Ann," in detail.text  # the text part
    # The HTML part in a sandboxed frame, escaped into its srcdoc attribute.
    assert "<iframe sandbox srcdoc=" in detail.text and "&lt;td bgcolor=&#34;#c2410c&#34;" in detail.text
    assert missing.status_code == 404


async def test_outbox_pages_hold_fifty_messages_newest_first(settings):
    await make_site()
    async with running(settings, smtp_url="", dev=True, run_worker=False) as app:
        ids = [
            await send_mail(app.state.portal, to=f"user{n}@example.test", template="test_message", context={})
            for n in range(51)
        ]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://sky.test") as client:
            first = await client.get("/dev/outbox")
            second = await client.get("/dev/outbox?page_no=2")
    assert first.text.count('href="/dev/outbox/') == 50
    assert first.text.index("user50@example.test") < first.text.index("user49@example.test")
    assert "user0@example.test" not in first.text and "page_no=2" in first.text
    assert second.text.count('href="/dev/outbox/') == 1 and f'href="/dev/outbox/{ids[0]}"' in second.text


async def test_outbox_is_404_outside_development(settings):
    await make_site()
    async with running(settings, smtp_url="", dev=False) as app:
        mail_id = await send_mail(app.state.portal, to="ann@example.test", template="test_message", context={})
        await wait_for_status(mail_id, {"outbox"})
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://sky.test") as client:
            listing = await client.get("/dev/outbox")
            detail = await client.get(f"/dev/outbox/{mail_id}")
    assert listing.status_code == 404 and detail.status_code == 404
    assert "ann@example.test" not in listing.text + detail.text


@pytest.mark.parametrize(
    "bad", ["", "not-an-address", "x" * 250 + "@b.test", "a@b.test\r\nBcc: victim@x.test", "a@b.test, c@d.test"]
)
async def test_send_mail_refuses_anything_but_one_address(app, bad):
    # Refused before anything is stored or queued, so the session app's worker never sees a job.
    with pytest.raises(InvalidInput) as caught:
        await send_mail(app.state.portal, to=bad, template="test_message", context={})
    assert caught.value.field == "to"
    assert await MailMessage.count() == 0
