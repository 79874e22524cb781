"""Sending to an HTTP JSON vendor API (Viber aggregators, WhatsApp Cloud API): one pooled client per vendor
connection, a window of requests in flight, a per-second limit shared by workers, and retries (DSP-3, DSP-4)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import httpx

from core.errors import TemporaryProviderError
from core.providers import OutboundMessage, SendResult, SubmitProgress, VendorConnection
from core.ratelimit import SharedBucket

log = logging.getLogger(__name__)


class HttpVendorClient:
    """Sends to one vendor account: at most ``window`` requests in flight and ``throughput`` per second (both
    from ``settings``, with ``request_timeout``).

    Answers ``retryable`` says so (429 and 5xx by default), and connections refused before the request was
    written, are retried with doubling pauses (a 429's Retry-After honoured, every sender of the connection
    pausing) for up to ``retry_for`` seconds; only then does the message fail. A request that may have reached
    the vendor but got no answer is reported unknown, never sent again (DSP-3).

    A channel subclasses it with ``vendor`` (how messages name the vendor), ``request`` (path and body of one
    message), ``accepted`` (the result of a 2xx answer) and ``refusal`` (why a 4xx answer refused it).
    """

    vendor: ClassVar[str] = "the vendor"

    def __init__(
        self,
        connection: VendorConnection,
        settings: Any,
        *,
        base_url: str,
        headers: dict[str, str],
        redis: Any = None,
        backoff: tuple[float, float] = (0.5, 30.0),
        retry_for: float = 120.0,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.backoff, self.retry_for = backoff, retry_for
        window = settings.window
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={**headers, "content-type": "application/json"},
            limits=httpx.Limits(max_connections=window, max_keepalive_connections=window),
            timeout=httpx.Timeout(settings.request_timeout, pool=None),
        )
        self._window = asyncio.Semaphore(window)
        # The per-second limit is the connection's, whatever the number of workers: a bucket in Redis when there
        # is one (tokens taken a tenth of a second's worth at a time), else this process's own.
        key = f"{connection.channel}:bucket:{connection.id}"
        self._bucket = SharedBucket(redis, key) if redis is not None else None
        self._chunk = max(1, min(settings.throughput // 10, 250))
        self._tokens = 0.0 if self._bucket is not None else float(settings.throughput)
        self._refilled: float | None = None  # a full second's worth to start with, then by elapsed time
        self._paused_until = 0.0
        self._rate_lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return f"{self.connection.name!r} (#{self.connection.id})"

    def request(self, message: OutboundMessage) -> tuple[str, bytes]:
        """The path to POST one message to and its JSON body."""
        raise NotImplementedError

    def accepted(self, message: OutboundMessage, answer: httpx.Response) -> SendResult:
        """The result of a 2xx answer."""
        raise NotImplementedError

    def refusal(self, answer: httpx.Response) -> str:
        """Why the vendor refused a message for good."""
        return f"refused by {self.vendor} (HTTP {answer.status_code})"

    def retryable(self, answer: httpx.Response) -> bool:
        """Whether the vendor asks to try again later (throttling, its own trouble)."""
        return answer.status_code == 429 or answer.status_code >= 500

    async def close(self) -> None:
        await self.http.aclose()

    async def submit(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None, *, hold: bool = False
    ) -> list[SendResult]:
        """Send every message; results in order. With ``progress``, each burst is announced as leaving before
        its first request is written, and each answer is handed over as it comes.

        Raises:
            TemporaryProviderError: ``hold`` is set and the vendor could not be reached at all: no request of
                the batch was written, so the core may keep the batch for later instead of failing it.
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
                raise TemporaryProviderError(f"{self.vendor} of connection {self.name} cannot be reached")
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
                        log.warning("connection %s: rate-limit bucket unavailable (%s)", self.name, exc)
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
        """The message's result; None, with ``hold``, when the vendor was never reached in this batch."""
        path, body = self.request(message)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.retry_for
        delay, tries = self.backoff[0], 0
        while True:
            tries += 1
            await self._take_token()
            async with self._window:
                try:
                    answer = await self.http.post(path, content=body)
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    reason = f"unreachable ({exc.__class__.__name__})"  # nothing was written
                    reach.down = True
                    if hold and not reach.reached:
                        return None
                except httpx.TransportError as exc:
                    reach.reached = True
                    return SendResult(
                        edr_id=message.edr_id,
                        accepted=False,
                        unknown=True,
                        error=f"no answer from {self.vendor} ({exc.__class__.__name__})",
                    )
                else:
                    reach.reached = True
                    if 200 <= answer.status_code < 300:
                        return self.accepted(message, answer)
                    if not self.retryable(answer):
                        return SendResult(edr_id=message.edr_id, accepted=False, error=self.refusal(answer)[:200])
                    reason = f"HTTP {answer.status_code}"
                    if answer.status_code == 429 or answer.status_code < 500:  # throttled: the connection pauses
                        wait = _retry_after(answer) or delay
                        self._paused_until = max(self._paused_until, loop.time() + wait)
            if loop.time() + delay > give_up:
                return SendResult(
                    edr_id=message.edr_id, accepted=False, error=f"{self.vendor} kept refusing: {reason}"[:200]
                )
            log.info("connection %s: %s, retry %d in %.1f s", self.name, reason, tries, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])


class _Reach:
    """Whether any request of a batch reached the vendor, and whether one found it unreachable."""

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
