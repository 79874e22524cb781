"""The Viber channel: one pooled HTTP client per aggregator account, windowed and rate-limited, and the
aggregator's signed status and inbound callbacks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import msgspec

from core import (
    ChannelCallback,
    ChannelCapabilities,
    DeliveryReport,
    HttpVendorClient,
    InboundMessage,
    InvalidInput,
    OutboundMessage,
    Portal,
    SendResult,
    SubmitProgress,
    Unauthenticated,
    VendorConnection,
    WebhookRequest,
)
from plugins.viber.http import LeanClient
from plugins.viber.schemas import (
    MAX_TTL,
    MIN_TTL,
    PROMOTION,
    RICH,
    TEXT_ONLY,
    TRANSACTION,
    InboundCallback,
    SendAnswer,
    SendRequest,
    StatusCallback,
    ViberSettings,
)

VIBER_MAX_TEXT = 1_000
SIGNATURE_HEADER = "x-signature"  # hex HMAC-SHA256 of the raw body, keyed with the connection's webhook secret
NO_CONNECTION = "no Viber vendor connection is configured"
INVALID_SETTINGS = "the Viber vendor connections' settings are invalid"
log = logging.getLogger(__name__)
MAX_ID, MAX_ADDRESS = 65, 20  # the longest vendor message id and MO address the core stores
# The aggregator's status numbers (protocols.md §3) and words → DELIVERY_STATES keys.
STATUS_NUMBERS = {0: "accepted", 1: "delivered", 2: "undelivered", 3: "rejected", 4: "undelivered", 5: "enroute"}
STATUS_WORDS = {
    "sent": "accepted",
    "pending": "enroute",
    "delivered": "delivered",
    "seen": "seen",
    "read": "seen",
    "undelivered": "undelivered",
    "error": "undelivered",
    "expired": "expired",
    "rejected": "rejected",
}
_BODY = msgspec.json.Decoder()
_ENCODE = msgspec.json.Encoder()


def sign(secret: str, body: bytes) -> str:
    """The signature the aggregator sends with a callback (and the stand-in computes)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request_body(message: OutboundMessage, default_ttl: int, callback_url: str) -> SendRequest:
    """The aggregator's JSON for one message; ``extra`` may hold image_url, button_caption, button_url and ttl
    (seconds), as a campaign hands them over.

    Viber bills an image or a button as promotion; a plain text is a transaction.
    """
    extra = message.extra
    image, caption, action = extra.get("image_url", ""), extra.get("button_caption", ""), extra.get("button_url", "")
    rich = bool(image or (caption and action))
    ttl = int(extra["ttl"]) if extra.get("ttl", "").isdigit() else default_ttl
    return SendRequest(
        source_addr=message.sender,
        destination_addr=message.destination.removeprefix("+"),
        message_type=RICH if rich else TEXT_ONLY,
        text=message.text,
        source_type=PROMOTION if rich else TRANSACTION,
        validity_period=min(max(ttl, MIN_TTL), MAX_TTL),
        callback_url=callback_url,
        image=image,
        button_caption=caption if action else "",
        button_action=action if caption else "",
    )


class ViberClient(HttpVendorClient):
    """Sends to one aggregator account (see HttpVendorClient for the window, the rate and the retries)."""

    vendor: ClassVar[str] = "the Viber aggregator"

    def __init__(self, connection: VendorConnection, callback_url: str, **options: Any) -> None:
        settings = msgspec.convert(connection.settings, ViberSettings, strict=False)
        credentials = base64.b64encode(f"{settings.api_key}:".encode()).decode()
        headers = {"authorization": f"Basic {credentials}"}
        super().__init__(connection, settings, base_url=settings.api_url, headers=headers, **options)
        # The same answers and errors as httpx's, for a fraction of its CPU (see LeanClient).
        self.http = LeanClient(  # type: ignore[assignment]
            settings.api_url,
            {**headers, "content-type": "application/json", "user-agent": "campaign-portal"},
            settings.request_timeout,
        )
        self.callback_url = callback_url

    def request(self, message: OutboundMessage) -> tuple[str, bytes]:
        return "/send-viber", _ENCODE.encode(request_body(message, self.settings.default_ttl, self.callback_url))

    def accepted(self, message: OutboundMessage, answer: httpx.Response) -> SendResult:
        try:
            message_id = str(msgspec.json.decode(answer.content, type=SendAnswer).message_id)
        except msgspec.DecodeError:
            # Taken (200) but its id is unreadable: its reports can never be matched; the outcome is unknown.
            return SendResult(
                edr_id=message.edr_id, accepted=False, unknown=True, error="the Viber aggregator's answer is unreadable"
            )
        return SendResult(
            edr_id=message.edr_id, accepted=True, vendor_message_id=message_id, connection=self.connection.id
        )

    def refusal(self, answer: httpx.Response) -> str:
        """The aggregator's reason for refusing a message, from its error body when it has one."""
        try:
            data = msgspec.json.decode(answer.content)
        except msgspec.DecodeError:
            data = None
        detail = ""
        if isinstance(data, dict):
            error = data.get("error", data)
            detail = str(error.get("message") or error.get("name") or "") if isinstance(error, dict) else str(error)
        return f"refused by the Viber aggregator (HTTP {answer.status_code}){': ' + detail if detail else ''}"


class ViberChannel:
    """``client_options`` are passed to every ViberClient (tests shorten back-offs with them)."""

    name: ClassVar[str] = "viber"
    label: ClassVar[str] = "Viber"
    settings_type: ClassVar[type[ViberSettings]] = ViberSettings
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        images=True, buttons=True, seen=True, submit_progress=True
    )

    def __init__(self, client_options: dict[str, Any] | None = None) -> None:
        self.client_options = dict(client_options or {})
        self.clients: dict[int, ViberClient] = {}
        self.invalid = 0  # connections left out for their settings

    def segments(self, text: str) -> int:
        """A Viber message is one billable unit whatever its length (up to the vendor's limit)."""
        return 1 if text else 0

    async def start(self, portal: Portal) -> None:
        """One client per enabled connection; HTTP needs no bind, so nothing can fail here."""
        await self.stop()
        self.invalid = 0
        for c in await portal.vendor_connections(self.name):
            try:
                self.clients[c.id] = ViberClient(
                    c, portal.webhook_url(self.name, c.id), redis=getattr(portal, "redis", None), **self.client_options
                )
            except msgspec.ValidationError as exc:
                # Stored before a limit existed, or written around the Admin Panel: the other connections carry on
                # (this one raising would fail every send job of the channel, again and again).
                log.error("Viber connection %r (#%d) is left out: its settings are invalid (%s)", c.name, c.id, exc)
                self.invalid += 1

    async def stop(self) -> None:
        clients, self.clients = list(self.clients.values()), {}
        await asyncio.gather(*(client.close() for client in clients))

    async def send_batch(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None
    ) -> Sequence[SendResult]:
        """Spread the batch over the connections in proportion to their throughput; results in order.

        Raises:
            TemporaryProviderError: the one connection's aggregator cannot be reached; nothing was sent. (With
                several connections, an unreachable one's messages are retried, then fail, as the others go on.)
        """
        clients = list(self.clients.values())
        if not clients:
            error = INVALID_SETTINGS if self.invalid else NO_CONNECTION
            return [SendResult(edr_id=m.edr_id, accepted=False, error=error) for m in messages]
        total_rate = sum(c.settings.throughput for c in clients)
        slices, start = [], 0
        for number, client in enumerate(clients):
            end = (
                len(messages)
                if number == len(clients) - 1
                else start + round(len(messages) * client.settings.throughput / total_rate)
            )
            if end > start:
                slices.append(client.submit(messages[start:end], progress, hold=len(clients) == 1))
            start = end
        results: list[SendResult] = []
        for part in await asyncio.gather(*slices):
            results.extend(part)
        return results

    def parse_callback(self, connection: VendorConnection, request: WebhookRequest) -> ChannelCallback:
        """Verify the aggregator's signature over the raw body, then read its status reports and replies.

        The body is one object or a list of them: a status (``message_id``, ``status``) or an inbound message
        (``recipient_response``).
        """
        secret = str(connection.settings.get("webhook_secret") or "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        expected = sign(secret, request.body).encode()
        # Bytes, not str: compare_digest refuses a str with non-ASCII characters, which a forged header may carry.
        if not secret or not given or not hmac.compare_digest(given.lower().encode(), expected):
            raise Unauthenticated("The callback's signature is missing or wrong")
        try:
            data = _BODY.decode(request.body)
        except msgspec.DecodeError as exc:
            raise InvalidInput(f"The callback is not JSON: {exc}", field="body") from exc
        items = data if isinstance(data, list) else [data]
        reports: list[DeliveryReport] = []
        inbound: list[InboundMessage] = []
        try:
            for item in items:
                if isinstance(item, dict) and "recipient_response" in item:
                    inbound.append(_inbound(msgspec.convert(item, InboundCallback)))
                else:
                    reports.append(_report(msgspec.convert(item, StatusCallback), connection.id))
        except msgspec.ValidationError as exc:
            raise InvalidInput(f"Unexpected callback: {exc}", field="body") from exc
        # What the tables hold: a longer id or address could never be ours, and would fail the whole call.
        if any(len(r.vendor_message_id) > MAX_ID for r in reports) or any(
            len(m.source) > MAX_ADDRESS or len(m.destination) > MAX_ADDRESS or len(m.vendor_message_id) > MAX_ID
            for m in inbound
        ):
            raise InvalidInput("Unexpected callback: an id or address is too long", field="body")
        return ChannelCallback(reports=tuple(reports), inbound=tuple(inbound))


def _report(status: StatusCallback, connection_id: int) -> DeliveryReport:
    if isinstance(status.status, int):
        state, word = STATUS_NUMBERS.get(status.status, "unknown"), str(status.status)
    else:
        word = status.status.lower()
        state = STATUS_WORDS.get(word, "unknown")
    try:
        done_at = datetime.fromtimestamp(status.timestamp, UTC) if status.timestamp else None
    except (ValueError, OverflowError, OSError):  # a timestamp no calendar has: the time of arrival counts
        done_at = None
    return DeliveryReport(
        vendor_message_id=str(status.message_id),
        state=state,
        vendor_status=word[:20],
        error_code=str(status.error_code or "")[:20],
        done_at=done_at,
        connection=connection_id,
    )


def _inbound(message: InboundCallback) -> InboundMessage:
    response = message.recipient_response
    return InboundMessage(
        channel="viber",
        source=str(response.recipient.phone).removeprefix("+"),
        destination=response.sender,
        text=response.content.text,
        vendor_message_id=str(message.message_id),
        received_at=datetime.now(UTC),
    )
