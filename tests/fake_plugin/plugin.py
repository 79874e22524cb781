"""Hook implementations of the fake plugin; every call is recorded in ``CALLS`` for the tests to read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency

from core import (
    Actor,
    ChannelCapabilities,
    Checkout,
    CheckoutRequest,
    Click,
    ClickStats,
    LinkGroup,
    LinkRecipient,
    LinkTarget,
    MenuLink,
    OutboundMessage,
    PartnerScope,
    PaymentAccount,
    PaymentUpdate,
    RefundResult,
    SendResult,
    ShortLink,
    WebhookRequest,
    hookimpl,
    render_page,
)

CALLS: dict[str, list[Any]] = {}


def _record(hook: str, value: Any) -> None:
    CALLS.setdefault(hook, []).append(value)


class TelegramSettings(msgspec.Struct, kw_only=True):
    bot_token: str = ""
    rate: int = 1


class TelegramChannel:
    name: ClassVar[str] = "telegram"
    label: ClassVar[str] = "Telegram"
    settings_type: ClassVar[type[TelegramSettings]] = TelegramSettings
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(buttons=True)

    def segments(self, text: str) -> int:
        return 1

    async def start(self, portal: Any) -> None:
        _record("channel_start", self.name)

    async def stop(self) -> None:
        _record("channel_stop", self.name)

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> Sequence[SendResult]:
        return [SendResult(edr_id=m.edr_id, accepted=True, vendor_message_id=f"tg-{m.edr_id}") for m in messages]


class FakePay:
    """Settles every checkout it opens; its webhook body is the vendor payment id."""

    name: ClassVar[str] = "fakepay"
    label: ClassVar[str] = "FakePay"
    settings_type: ClassVar[type[TelegramSettings]] = TelegramSettings

    def __init__(self) -> None:
        self.opened: dict[str, CheckoutRequest] = {}

    async def create_checkout(self, account: PaymentAccount, request: CheckoutRequest) -> Checkout:
        vendor_id = f"fp-{request.payment_id}"
        self.opened[vendor_id] = request
        return Checkout(vendor_payment_id=vendor_id, redirect_url=f"https://pay.invalid/{vendor_id}")

    def parse_webhook(self, account: PaymentAccount, request: WebhookRequest) -> PaymentUpdate | None:
        opened = self.opened.get(request.body.decode())
        if opened is None:
            return None
        return PaymentUpdate(
            vendor_payment_id=request.body.decode(),
            status="succeeded",
            amount_micros=opened.amount_micros,
            currency=opened.currency,
            payment_id=opened.payment_id,
        )

    async def refund(self, account: PaymentAccount, vendor_payment_id: str, amount_micros: int) -> RefundResult:
        return RefundResult(vendor_refund_id=f"re-{vendor_payment_id}", amount_micros=amount_micros, final=True)


class FakeShort:
    """Numbers its links; a code is the link's index."""

    name: ClassVar[str] = "fakeshort"
    label: ClassVar[str] = "FakeShort"
    settings_type: ClassVar[type[TelegramSettings]] = TelegramSettings

    def __init__(self) -> None:
        self.links: list[LinkTarget] = []

    async def shorten(self, domain: str, url: str, recipients: Sequence[LinkRecipient]) -> Sequence[ShortLink]:
        links = []
        for recipient in recipients:
            self.links.append(LinkTarget(link_id=len(self.links), url=url, recipient=recipient))
            code = str(len(self.links) - 1)
            links.append(ShortLink(code=code, short_url=f"https://{domain}/{code}"))
        return links

    async def resolve(self, domain: str, code: str) -> LinkTarget | None:
        return self.links[int(code)] if code.isdigit() and int(code) < len(self.links) else None

    def preview(self, domain: str) -> str:
        return f"https://{domain}/{len(self.links)}"

    async def record_click(self, target: LinkTarget, click: Click) -> None:
        _record("link_click", (target.link_id, click.browser))

    async def record_clicks(self, clicks: Sequence[tuple[LinkTarget, Click]]) -> None:
        for target, click in clicks:
            await self.record_click(target, click)

    async def statistics(self, partners: PartnerScope, **where: Any) -> ClickStats:
        return ClickStats()

    async def link_groups(self, partners: PartnerScope) -> Sequence[LinkGroup]:
        return []


@get("/fake/ping")
async def ping() -> dict[str, str]:
    return {"pong": "telegram"}


@get("/fake/hello")
async def hello(request: Request, actor: NamedDependency[Actor]) -> Response:
    return await render_page(request, actor, "fake/hello.html")


async def fake_double(ctx: dict[str, Any], *, value: int) -> int:
    return value * 2


@hookimpl
def register_channels(register: Callable[[Any], None]) -> None:
    register(TelegramChannel())


@hookimpl
def register_payment_providers(register: Callable[[Any], None]) -> None:
    register(FakePay())


@hookimpl
def register_shorteners(register: Callable[[Any], None]) -> None:
    register(FakeShort())


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("telegram", TelegramSettings)


class TelegramStandIn:
    """A stand-in vendor that answers every line with "ok" (enough to prove the core starts it)."""

    channel: ClassVar[str] = "telegram"

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readline()
            writer.write(b"ok\n")
            await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(answer, host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def connection_settings(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port}

    async def inject_mo(self, source: str, destination: str, text: str) -> None:
        _record("stand_in_mo", (source, destination, text))


@hookimpl
def register_stand_ins(register: Callable[[Any], None]) -> None:
    register(TelegramStandIn)


@hookimpl
def register_routes() -> list[Any]:
    return [ping, hello]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["tests.fake_plugin.piccolo_app"]


@hookimpl
def register_jobs() -> list[Any]:
    return [fake_double]


@hookimpl
def template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def menu_links(actor: Actor) -> list[MenuLink]:
    return [MenuLink(label="Telegram", href="/fake/hello", order=50)]


@hookimpl
async def startup(portal: Any) -> None:
    _record("startup", portal)


@hookimpl
async def message_status_changed(event: Any) -> None:
    _record("message_status_changed", event)


@hookimpl
def campaign_status_changed(portal: Any, event: Any) -> None:
    _record("campaign_status_changed", (portal, event))


@hookimpl
async def payment_settled(event: Any) -> None:
    _record("payment_settled", event)


@hookimpl
def link_clicked(event: Any) -> None:
    _record("link_clicked", event)
