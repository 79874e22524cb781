"""SMPP 3.4 ESME: one bind_transceiver per vendor connection on asyncio.Protocol, windowed and rate-limited."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import msgspec

from core import OutboundMessage, ProviderError, SendResult, SharedBucket, SubmitProgress, VendorConnection
from plugins.sms import encoding, pdu
from plugins.sms.receipts import MoAssembler, ReportBuffer, is_report, parse_receipt
from plugins.sms.schemas import SmppSettings

log = logging.getLogger(__name__)

NOT_BOUND = "no SMS vendor connection is bound"
_RETRIED = (pdu.ESME_RTHROTTLED, pdu.ESME_RMSGQFUL)  # the vendor is busy: wait and resend, never a failure


class SmppBindError(ProviderError):
    """The SMSC refused our bind (wrong credentials, no such account…)."""


class _Part:
    """One submit_sm of a batch: which message and part it is and its encoded body (re-sent under a new
    sequence number when the SMSC throttles it)."""

    __slots__ = ("body", "index", "part", "sent_at")

    def __init__(self, index: int, part: int, body: bytes) -> None:
        self.index, self.part, self.body, self.sent_at = index, part, body, 0.0


class _Batch:
    """The bookkeeping of one submit() call; resolved parts count down ``remaining`` (and, per message,
    ``parts_left``: a message is answered when its last part is, and is then reported to ``progress``)."""

    __slots__ = (
        "connection",
        "errors",
        "ids",
        "messages",
        "parts_left",
        "progress",
        "remaining",
        "retry",
        "unknown",
        "waiter",
    )

    def __init__(self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None, connection: int) -> None:
        size = len(messages)
        self.connection = connection
        self.messages = messages
        self.progress = progress
        self.ids: list[list[str]] = [[] for _ in range(size)]
        self.parts_left = [0] * size
        self.errors = [""] * size
        self.unknown = [False] * size
        self.remaining = 0
        self.retry: deque[_Part] = deque()
        self.waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def resolve(self, index: int) -> None:
        self.parts_left[index] -= 1
        if self.parts_left[index] == 0 and self.progress is not None:
            self.progress.answered(self.result(index))
        self.remaining -= 1
        if self.remaining == 0:
            self.wake()

    def fail_unknown(self, part: _Part, reason: str) -> None:
        self.unknown[part.index] = True
        self.errors[part.index] = reason
        self.resolve(part.index)

    def result(self, index: int) -> SendResult:
        edr_id = self.messages[index].edr_id
        if self.unknown[index]:
            return SendResult(edr_id=edr_id, accepted=False, unknown=True, error=self.errors[index])
        if self.errors[index]:
            return SendResult(edr_id=edr_id, accepted=False, error=self.errors[index])
        ids = self.ids[index]
        # The connection goes with every id: SMSCs number messages per account, and a restarted one starts again.
        return SendResult(
            edr_id=edr_id,
            accepted=True,
            vendor_message_id=ids[0],
            part_ids=tuple(ids) if len(ids) > 1 else (),
            connection=self.connection,
        )


class _Link(asyncio.Protocol):
    """One TCP connection; frames go to the client, which ignores frames of a link it has replaced."""

    def __init__(self, client: SmppClient) -> None:
        self.client = client
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a TCP connection's, a full Transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            frames = pdu.split_frames(self.buffer)
        except pdu.PduError as exc:
            log.error("SMPP connection %s: %s; reconnecting", self.client.name, exc)
            assert self.transport is not None
            self.transport.abort()
            return
        if frames:
            self.client._on_frames(self, frames)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        self.client._on_lost(self)


class SmppClient:
    """An ESME bound as transceiver to one vendor connection; submit() may be called concurrently.

    start() keeps the bind up (reconnecting with back-off, enquire_link keep-alive) until stop().
    Receipts and MO go to ``reports``; the messages-per-second limit (submit_sm PDUs, as vendors count)
    is a token bucket in ``redis`` under the connection id, shared by every process using that connection.
    """

    def __init__(
        self,
        connection: VendorConnection,
        *,
        reports: ReportBuffer | None = None,
        redis: Any = None,
        enquire_link_interval: float | None = None,
        response_timeout: float | None = None,
        reconnect_delay: tuple[float, float] = (0.5, 30.0),
        throttle_backoff: tuple[float, float] = (0.5, 30.0),
        unbound_timeout: float = 30.0,
        match_id: int | None = None,
    ) -> None:
        self.connection = connection
        # The connection id results and receipts carry (see SmsChannel.reload): shared by connections to one account.
        self.match_id = connection.id if match_id is None else match_id
        self.settings = msgspec.convert(connection.settings, SmppSettings, strict=False)
        self.name = f"{connection.name!r} (#{connection.id})"
        self.reports = reports
        self.redis = redis
        self.window = self.settings.window
        self.enquire_link_interval = enquire_link_interval or self.settings.enquire_link_interval
        self.response_timeout = response_timeout or self.settings.response_timeout
        self.reconnect_delay = reconnect_delay
        self.throttle_backoff = throttle_backoff
        self.unbound_timeout = unbound_timeout
        self.last_error = ""
        self.binds = 0  # successful binds so far; a reconnect adds one
        self._loop = asyncio.get_running_loop()
        self._link: _Link | None = None
        self._bound = False
        self._bound_event = asyncio.Event()
        self._stopping = False
        self._runner: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Future[None] = self._loop.create_future()
        self._seq = 0
        self._out: list[bytes] = []
        self._flush_pending = False
        self._outstanding: dict[int, tuple[_Part, _Batch]] = {}
        # Vendor ids answered to submit() calls still running: their receipts are held a while (ReportBuffer).
        self._submitting_ids: set[str] = set()
        self._requests: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        # Wake pumps waiting for the window once a quarter of it is free, so they write in bursts.
        self._low_water = max(0, self.window - max(1, self.window // 4))
        self._window_free: asyncio.Future[None] | None = None
        self._paused_until = 0.0
        self._backoff = throttle_backoff[0]
        self._tokens = 0
        self._token_chunk = max(1, min(self.settings.throughput // 10, 250))
        self._refill: asyncio.Future[None] | None = None
        self._bucket_key = f"sms:bucket:{connection.id}"
        self._bucket = SharedBucket(redis, self._bucket_key) if redis is not None else None
        self._local_tokens, self._local_at = float(self.settings.throughput), self._loop.time()
        self._mo = MoAssembler()
        self._udh_ref = 0

    @property
    def bound(self) -> bool:
        return self._bound

    # --- life cycle -------------------------------------------------------------------------------------------

    async def bind(self) -> None:
        """Connect and bind once. Raises SmppBindError naming the connection and the SMSC's status."""
        host, port = self.settings.host, self.settings.port
        try:
            _, link = await asyncio.wait_for(
                self._loop.create_connection(lambda: _Link(self), host, port), self.response_timeout
            )
        except (OSError, TimeoutError) as exc:
            raise SmppBindError(f"SMPP connection {self.name}: cannot connect to {host}:{port}: {exc}") from None
        self._link = link
        s = self.settings
        try:
            status, _ = await self._request(pdu.bind_transceiver, s.system_id, s.password, s.system_type)
        except (TimeoutError, ConnectionError):
            self._abort(link)
            raise SmppBindError(f"SMPP connection {self.name}: no answer to bind_transceiver") from None
        if status != pdu.ESME_ROK:
            self._abort(link)
            raise SmppBindError(f"SMPP connection {self.name}: bind refused by the SMSC: {pdu.status_text(status)}")
        self.binds += 1
        self.last_error = ""
        self._bound = True
        self._bound_event.set()
        log.info("SMPP connection %s bound to %s:%d", self.name, host, port)

    async def start(self, wait: float | None = None) -> bool:
        """Keep the connection bound in the background; wait for the first bind attempt; True if bound."""
        if self._runner is None:
            self._runner = self._loop.create_task(self._run(), name=f"smpp {self.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._first_attempt), wait or self.response_timeout + 1)
        return self._bound

    async def _run(self) -> None:
        delay = self.reconnect_delay[0]
        while not self._stopping:
            try:
                await self.bind()
            except SmppBindError as exc:
                self.last_error = exc.detail
                log.warning("%s; retrying in %.1f s", exc.detail, delay)
                if not self._first_attempt.done():
                    self._first_attempt.set_result(None)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_delay[1])
                continue
            delay = self.reconnect_delay[0]
            if not self._first_attempt.done():
                self._first_attempt.set_result(None)
            assert self._link is not None
            await self._keep_alive(self._link)
            if not self._stopping:
                log.warning("SMPP connection %s lost; reconnecting", self.name)
                await asyncio.sleep(self.reconnect_delay[0])

    async def _keep_alive(self, link: _Link) -> None:
        """Until the link is lost: enquire_link every interval (no answer → drop the link), response timeouts."""
        tick = min(1.0, self.enquire_link_interval, self.response_timeout / 4)
        next_enquire = self._loop.time() + self.enquire_link_interval
        while not link.lost.done():
            await asyncio.wait((link.lost,), timeout=tick)
            if link.lost.done():
                return
            self._expire_outstanding()
            if self._loop.time() >= next_enquire:
                try:
                    await self._request(pdu.enquire_link)
                except (TimeoutError, ConnectionError):
                    if link.lost.done() or self._stopping:
                        return
                    log.warning("SMPP connection %s: no answer to enquire_link; reconnecting", self.name)
                    self._abort(link)
                    return
                next_enquire = self._loop.time() + self.enquire_link_interval

    async def stop(self, drain: float = 5.0) -> None:
        """Let outstanding submits be answered (up to ``drain`` s), unbind, close; stop reconnecting."""
        self._stopping = True
        deadline = self._loop.time() + drain
        # Polling is fine here: it runs once per stop, and answers arrive within milliseconds on a healthy bind.
        while self._outstanding and self._bound and self._loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        link = self._link
        if link is not None and self._bound:
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(self._request(pdu.unbind), 2.0)
        if link is not None:
            self._abort(link, graceful=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(link.lost), 2.0)
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        self._bound_event.set()  # pumps waiting for a bind give up now
        self._wake_window()

    def _abort(self, link: _Link, graceful: bool = False) -> None:
        if link.transport is not None:
            if graceful:
                self._flush()
                link.transport.close()
            else:
                link.transport.abort()

    # --- writing ------------------------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = self._seq + 1 if self._seq < 0x7FFFFFFF else 1
        return self._seq

    def _write(self, data: bytes) -> None:
        # Coalesce every PDU written in one loop iteration into one transport.write (one syscall).
        self._out.append(data)
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if self._out:
            data, self._out = b"".join(self._out), []
            link = self._link
            if link is not None and link.transport is not None and not link.lost.done():
                link.transport.write(data)

    async def _request(self, build: Any, *args: Any) -> tuple[int, bytes]:
        """Send a control PDU and await its response: (command_status, body)."""
        seq = self._next_seq()
        future: asyncio.Future[tuple[int, bytes]] = self._loop.create_future()
        self._requests[seq] = future
        self._write(build(seq, *args))
        try:
            return await asyncio.wait_for(future, self.response_timeout)
        finally:
            self._requests.pop(seq, None)

    # --- submitting ---------------------------------------------------------------------------------------------

    def _encode(self, messages: Sequence[OutboundMessage], batch: _Batch) -> deque[_Part]:
        parts: deque[_Part] = deque()
        for index, message in enumerate(messages):
            self._udh_ref = (self._udh_ref + 1) & 0xFF
            ucs2, chunks = encoding.split(message.text, self._udh_ref)
            if len(chunks) > 255:
                batch.errors[index] = f"the text is too long for one SMS ({len(chunks)} parts, at most 255)"
                continue
            ton, npi, source = encoding.address_ton_npi(message.sender)
            destination = message.destination.removeprefix("+").encode("ascii", "replace")
            esm_class = pdu.ESM_UDHI if len(chunks) > 1 else 0
            coding = encoding.data_coding(ucs2, message.flash)
            source_bytes = source.encode("ascii", "replace")
            batch.ids[index] = [""] * len(chunks)
            batch.parts_left[index] = len(chunks)
            for number, chunk in enumerate(chunks):
                body = pdu.submit_sm_body(ton, npi, source_bytes, destination, esm_class, coding, chunk)
                parts.append(_Part(index, number, body))
        batch.remaining = len(parts)
        return parts

    async def submit(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None
    ) -> list[SendResult]:
        """Submit the messages over this bind; one result per message, in order (see SendResult).

        With ``progress``, each burst of messages is announced as leaving before its first submit_sm is written,
        and each message is reported as soon as its last part is answered.
        """
        batch = _Batch(messages, progress, self.match_id)
        try:
            await self._pump(messages, batch, progress)
        finally:
            for ids in batch.ids:
                self._submitting_ids.difference_update(ids)
        return [batch.result(index) for index in range(len(messages))]

    async def _pump(self, messages: Sequence[OutboundMessage], batch: _Batch, progress: SubmitProgress | None) -> None:
        """Write the batch's submit_sm as the bind, window, rate and throttling allow, until every part resolved."""
        pending = self._encode(messages, batch)
        outstanding = self._outstanding
        loop = self._loop
        announced = 0  # messages[:announced] were announced as leaving
        while True:
            if batch.retry:
                part = batch.retry.popleft()
            elif pending:
                part = pending.popleft()
            elif batch.remaining == 0:
                break
            else:
                batch.waiter = loop.create_future()
                await batch.waiter
                batch.waiter = None
                continue
            ready = self._bound and self._tokens > 0 and len(outstanding) < self.window
            if not (ready and loop.time() >= self._paused_until) and not await self._ready():
                # Never written, so safe to report as a plain failure: the core may send it again later.
                for left in (part, *batch.retry, *pending):
                    if not batch.errors[left.index]:
                        batch.errors[left.index] = NOT_BOUND if not self._stopping else "the SMS connection is closing"
                    batch.resolve(left.index)
                batch.retry.clear()
                pending.clear()
                continue
            if progress is not None and part.index >= announced:
                # As many messages as may be written before the next wait: what the window and tokens allow.
                burst = max(1, min(self.window - len(outstanding), self._tokens))
                upto = min(len(messages), part.index + burst)
                await progress.leaving([m.edr_id for m in messages[announced:upto]])
                announced = upto
                batch.retry.appendleft(part)  # the wait may have changed the link, window or tokens: check again
                continue
            self._tokens -= 1
            seq = self._next_seq()
            part.sent_at = loop.time()
            outstanding[seq] = (part, batch)
            self._write(pdu.pdu(pdu.SUBMIT_SM, seq, part.body))

    async def _ready(self) -> bool:
        """Wait until a submit may be written: bound, not paused by throttling, window open, a token in hand."""
        loop = self._loop
        while not self._stopping:
            if not self._bound:
                try:
                    await asyncio.wait_for(self._bound_event.wait(), self.unbound_timeout)
                except TimeoutError:
                    return False
                continue
            now = loop.time()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
            elif len(self._outstanding) >= self.window:
                if self._window_free is None or self._window_free.done():
                    self._window_free = loop.create_future()
                await self._window_free
            elif self._tokens <= 0:
                if self._refill is None or self._refill.done():
                    self._refill = loop.create_task(self._take_tokens())
                await asyncio.shield(self._refill)
            else:
                return True
        return False

    async def _take_tokens(self) -> None:
        rate = self.settings.throughput
        want = self._token_chunk
        if self._bucket is not None:
            try:
                granted, wait = await self._bucket.take(rate, want)
            except Exception as exc:  # Redis down: keep this process within the limit on its own
                log.warning("SMPP connection %s: rate-limit bucket unavailable (%s); limiting locally", self.name, exc)
            else:
                if granted:
                    self._tokens += granted
                else:
                    await asyncio.sleep(wait)
                return
        now = self._loop.time()
        self._local_tokens = min(float(rate), self._local_tokens + (now - self._local_at) * rate)
        self._local_at = now
        granted = min(want, int(self._local_tokens))
        if granted:
            self._local_tokens -= granted
            self._tokens += granted
        else:
            await asyncio.sleep((1 - self._local_tokens) / rate)

    def _wake_window(self) -> None:
        if self._window_free is not None and not self._window_free.done():
            self._window_free.set_result(None)
        self._window_free = None

    def _expire_outstanding(self) -> None:
        """Submits unanswered for response_timeout: their outcome cannot be known, so report them unknown."""
        if not self._outstanding:
            return
        limit = self._loop.time() - self.response_timeout
        expired = []
        for seq, (part, _) in self._outstanding.items():  # in send order: stop at the first young one
            if part.sent_at > limit:
                break
            expired.append(seq)
        for seq in expired:
            part, batch = self._outstanding.pop(seq)
            batch.fail_unknown(part, f"no answer from the SMSC within {self.response_timeout:g} s")
        if expired:
            log.warning("SMPP connection %s: %d submit_sm unanswered, reported unknown", self.name, len(expired))
            self._wake_window()

    # --- reading ------------------------------------------------------------------------------------------------

    def _on_frames(self, link: _Link, frames: list[tuple[int, int, int, bytes]]) -> None:
        if link is not self._link:
            return
        outstanding = self._outstanding
        for command_id, status, seq, body in frames:
            if command_id == pdu.SUBMIT_SM_RESP:
                entry = outstanding.pop(seq, None)
                if entry is None:
                    continue  # answered after its timeout: already reported unknown
                part, batch = entry
                if status == pdu.ESME_ROK:
                    vendor_id = pdu.decode_message_id(body)
                    batch.ids[part.index][part.part] = vendor_id
                    self._submitting_ids.add(vendor_id)
                    batch.resolve(part.index)
                    self._backoff = self.throttle_backoff[0]
                elif status in _RETRIED:
                    self._throttled(status)
                    batch.retry.append(part)
                    batch.wake()
                else:
                    batch.errors[part.index] = f"refused by the SMSC: {pdu.status_text(status)}"
                    batch.resolve(part.index)
            elif command_id == pdu.DELIVER_SM:
                self._write(pdu.deliver_sm_resp(seq))  # always ROK, or the SMSC delivers it again and again
                self._on_deliver(body)
            elif command_id & pdu.RESPONSE_BIT:
                if command_id == pdu.GENERIC_NACK and seq in outstanding:
                    part, batch = outstanding.pop(seq)
                    batch.errors[part.index] = f"refused by the SMSC: {pdu.status_text(status)}"
                    batch.resolve(part.index)
                future = self._requests.pop(seq, None)
                if future is not None and not future.done():
                    future.set_result((status, body))
            elif command_id == pdu.ENQUIRE_LINK:
                self._write(pdu.enquire_link_resp(seq))
            elif command_id == pdu.UNBIND:
                log.warning("SMPP connection %s: the SMSC unbinds; reconnecting", self.name)
                self._write(pdu.unbind_resp(seq))
                self._abort(link, graceful=True)
            else:
                self._write(pdu.generic_nack(seq, pdu.ESME_RINVCMDID))
        if self._window_free is not None and len(outstanding) <= self._low_water:
            self._wake_window()

    def _throttled(self, status: int) -> None:
        now = self._loop.time()
        if now >= self._paused_until:  # one back-off step per pause, not one per throttled answer
            self._paused_until = now + self._backoff
            self._backoff = min(self._backoff * 2, self.throttle_backoff[1])
            log.info("SMPP connection %s: %s; pausing", self.name, pdu.status_text(status))

    def _on_deliver(self, body: bytes) -> None:
        try:
            sm = pdu.decode_short_message(body)
        except pdu.PduError as exc:
            log.error("SMPP connection %s: undecodable deliver_sm (%s) dropped", self.name, exc)
            return
        if self.reports is None:
            return
        if is_report(sm):
            report = parse_receipt(sm, self.match_id)
            if report is None:
                log.warning("SMPP connection %s: a receipt without a message id was ignored", self.name)
            else:
                # A receipt for an id a running submit was just given may overtake the stored answer; matched at
                # once it would go to an older message with the same id (an SMSC that restarted counts from 1).
                self.reports.add_report(report, hold=report.vendor_message_id in self._submitting_ids)
        else:
            message = self._mo.add(sm)
            if message is not None:
                self.reports.add_inbound(message)

    def _on_lost(self, link: _Link) -> None:
        if link is not self._link:
            return
        self._bound = False
        self._bound_event.clear()
        self._out.clear()
        # Nobody can tell whether the SMSC took these: report them unknown, never send them again.
        # Cleared in place: running submit() calls hold this very dict.
        outstanding = list(self._outstanding.values())
        self._outstanding.clear()
        for part, batch in outstanding:
            batch.fail_unknown(part, "the SMSC connection was lost before it answered")
        requests, self._requests = self._requests, {}
        for future in requests.values():
            if not future.done():
                future.set_exception(ConnectionError("SMPP connection lost"))
        self._wake_window()
