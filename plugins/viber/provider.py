"""The Viber channel: one pooled HTTP client per aggregator account, windowed and rate-limited, and the
aggregator's signed status and inbound callbacks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import msgspec

from core import (
    ChannelCallback,
    ChannelCapabilities,
    DeliveryReport,
    InboundMessage,
    InvalidInput,
    OutboundMessage,
    Portal,
    SendResult,
    SharedBucket,
    SubmitProgress,
    TemporaryProviderError,
    Unauthenticated,
    VendorConnection,
    WebhookRequest,
)
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

log = logging.getLogger(__name__)

VIBER_MAX_TEXT = 1_000
SIGNATURE_HEADER = "x-signature"  # hex HMAC-SHA256 of the raw body, keyed with the connection's webhook secret
NO_CONNECTION = "no Viber vendor connection is configured"
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


class ViberClient:
    """Sends to one aggregator account: at most ``window`` requests in flight and ``throughput`` per second.

    429 and 5xx answers, and connections refused before the request was written, are retried with doubling
    pauses (a 429's Retry-After honoured, every sender of the connection pausing) for up to ``retry_for``
    seconds; only then does the message fail. A request that may have reached the aggregator but got no
    answer is reported unknown, never sent again (DSP-3).
    """

    def __init__(
        self,
        connection: VendorConnection,
        callback_url: str,
        *,
        redis: Any = None,
        backoff: tuple[float, float] = (0.5, 30.0),
        retry_for: float = 120.0,
    ) -> None:
        self.connection = connection
        self.settings = msgspec.convert(connection.settings, ViberSettings, strict=False)
        self.callback_url = callback_url
        self.backoff, self.retry_for = backoff, retry_for
        window = self.settings.window
        credentials = base64.b64encode(f"{self.settings.api_key}:".encode()).decode()
        self.http = httpx.AsyncClient(
            base_url=self.settings.api_url.rstrip("/"),
            headers={"authorization": f"Basic {credentials}", "content-type": "application/json"},
            limits=httpx.Limits(max_connections=window, max_keepalive_connections=window),
            timeout=httpx.Timeout(self.settings.request_timeout, pool=None),
        )
        self._window = asyncio.Semaphore(window)
        # The per-second limit is the connection's, whatever the number of workers: a bucket in Redis when there
        # is one (tokens taken a tenth of a second's worth at a time), else this process's own.
        self._bucket = SharedBucket(redis, f"viber:bucket:{connection.id}") if redis is not None else None
        self._chunk = max(1, min(self.settings.throughput // 10, 250))
        self._tokens = 0.0 if self._bucket is not None else float(self.settings.throughput)
        self._refilled: float | None = None  # a full second's worth to start with, then by elapsed time
        self._paused_until = 0.0
        self._rate_lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return f"{self.connection.name!r} (#{self.connection.id})"

    async def close(self) -> None:
        await self.http.aclose()

    async def submit(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None, *, hold: bool = False
    ) -> list[SendResult]:
        """Send every message; results in order. With ``progress``, each burst is announced as leaving before
        its first request is written, and each answer is handed over as it comes.

        Raises:
            TemporaryProviderError: ``hold`` is set and the aggregator could not be reached at all: no request
                of the batch was written, so the core may keep the batch for later instead of failing it.
        """
        results: list[SendResult | None] = [None] * len(messages)
        announced = 0
        announce = asyncio.Lock()
        reach = _Reach()
        held: list[int] = []

        async def worker(indices: Iterator[int], hold: bool) -> None:
            nonlocal announced
            for index in indices:
                if hold and reach.down and not reach.reached:
                    held.append(index)
                    continue
                if progress is not None and index >= announced:
                    async with announce:
                        if index >= announced:
                            upto = min(len(messages), index + self.settings.window)
                            await progress.leaving([m.edr_id for m in messages[announced:upto]])
                            announced = upto
                result = await self._send_one(messages[index], reach, hold)
                if result is None:  # unreachable before anything was written: keep it for the verdict below
                    held.append(index)
                    continue
                results[index] = result
                if progress is not None:
                    progress.answered(result)

        async def run(indices: Iterator[int], hold: bool) -> None:
            await asyncio.gather(*(worker(indices, hold) for _ in range(min(self.settings.window, len(messages)))))

        await run(iter(range(len(messages))), hold)
        if held:
            if not reach.reached:
                raise TemporaryProviderError(f"the Viber aggregator of connection {self.name} cannot be reached")
            # It answered other requests meanwhile: these go the usual way, retried while it stays away.
            await run(iter(sorted(held)), False)
        return [r for r in results if r is not None]

    async def _take_token(self) -> None:
        """Wait for a pause after throttling to end and for a token of the per-second budget."""
        loop = asyncio.get_running_loop()
        async with self._rate_lock:
            while True:
                now = loop.time()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                rate = self.settings.throughput
                if self._bucket is not None:
                    try:
                        granted, wait = await self._bucket.take(rate, self._chunk)
                    except Exception as exc:  # Redis down: keep this process within the limit on its own
                        log.warning("Viber connection %s: rate-limit bucket unavailable (%s)", self.name, exc)
                        self._bucket = None
                        self._refilled = now
                        continue
                    self._tokens += granted
                    if not granted:
                        await asyncio.sleep(wait)
                    continue
                elapsed = 0.0 if self._refilled is None else now - self._refilled
                self._tokens = min(float(rate), self._tokens + elapsed * rate)
                self._refilled = now
                if self._tokens < 1:
                    await asyncio.sleep((1 - self._tokens) / rate)

    async def _send_one(self, message: OutboundMessage, reach: _Reach, hold: bool = False) -> SendResult | None:
        """The message's result; None, with ``hold``, when the aggregator was never reached in this batch."""
        body = _ENCODE.encode(request_body(message, self.settings.default_ttl, self.callback_url))
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.retry_for
        delay, tries = self.backoff[0], 0
        while True:
            tries += 1
            await self._take_token()
            async with self._window:
                try:
                    answer = await self.http.post("/send-viber", content=body)
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    reason = f"the aggregator is unreachable ({exc.__class__.__name__})"  # nothing was written
                    reach.down = True
                    if hold and not reach.reached:
                        return None
                except httpx.TransportError as exc:
                    reach.reached = True
                    return SendResult(
                        edr_id=message.edr_id,
                        accepted=False,
                        unknown=True,
                        error=f"no answer from the Viber aggregator ({exc.__class__.__name__})",
                    )
                else:
                    reach.reached = True
                    if answer.status_code == 200:
                        return self._accepted(message, answer)
                    if answer.status_code != 429 and answer.status_code < 500:
                        return SendResult(edr_id=message.edr_id, accepted=False, error=_refusal(answer))
                    reason = f"HTTP {answer.status_code}"
                    if answer.status_code == 429:
                        wait = _retry_after(answer) or delay
                        self._paused_until = max(self._paused_until, loop.time() + wait)
            if loop.time() + delay > give_up:
                return SendResult(
                    edr_id=message.edr_id, accepted=False, error=f"the Viber aggregator kept refusing: {reason}"
                )
            log.info("Viber connection %s: %s, retry %d in %.1f s", self.name, reason, tries, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    def _accepted(self, message: OutboundMessage, answer: httpx.Response) -> SendResult:
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


class _Reach:
    """Whether any request of a batch reached the aggregator, and whether one found it unreachable."""

    __slots__ = ("down", "reached")

    def __init__(self) -> None:
        self.down = False
        self.reached = False


def _retry_after(answer: httpx.Response) -> float:
    value = answer.headers.get("retry-after", "")
    try:
        return min(max(float(value), 0.0), 60.0)
    except ValueError:
        return 0.0


def _refusal(answer: httpx.Response) -> str:
    """The aggregator's reason for refusing a message, from its error body when it has one."""
    try:
        data = msgspec.json.decode(answer.content)
    except msgspec.DecodeError:
        data = None
    detail = ""
    if isinstance(data, dict):
        error = data.get("error", data)
        detail = str(error.get("message") or error.get("name") or "") if isinstance(error, dict) else str(error)
    return f"refused by the Viber aggregator (HTTP {answer.status_code}){': ' + detail if detail else ''}"[:200]


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

    def segments(self, text: str) -> int:
        """A Viber message is one billable unit whatever its length (up to the vendor's limit)."""
        return 1 if text else 0

    async def start(self, portal: Portal) -> None:
        """One client per enabled connection; HTTP needs no bind, so nothing can fail here."""
        await self.stop()
        self.clients = {
            c.id: ViberClient(
                c, portal.webhook_url(self.name, c.id), redis=getattr(portal, "redis", None), **self.client_options
            )
            for c in await portal.vendor_connections(self.name)
        }

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
            return [SendResult(edr_id=m.edr_id, accepted=False, error=NO_CONNECTION) for m in messages]
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
