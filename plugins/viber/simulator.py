"""Stand-in Viber aggregator: its HTTP JSON API on loopback, with signed status callbacks and inbound messages,
for the demo, the tests and the benchmarks (CHN-4)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
from collections import Counter, deque
from typing import Any, ClassVar

import h11
import httpx
import msgspec

from plugins.viber.http import LeanClient
from plugins.viber.provider import SIGNATURE_HEADER, VIBER_MAX_TEXT, sign
from plugins.viber.schemas import MAX_TTL, MIN_TTL, SendRequest

log = logging.getLogger(__name__)

# Outcome → the statuses the stand-in reports, in order; "never" reports nothing (the message expires unseen).
OUTCOMES: dict[str, tuple[str, ...]] = {
    "delivered": ("delivered",),
    "seen": ("delivered", "seen"),
    "undelivered": ("undelivered",),
    "expired": ("expired",),
    "rejected": ("rejected",),
    "never": (),
}
OUTCOMES_ENV = "PORTAL_STANDIN_VIBER_OUTCOMES"
WEBHOOK_ENV = "PORTAL_STANDIN_VIBER_WEBHOOK"
_DECODE = msgspec.json.Decoder(SendRequest)
# Callbacks posted at once; the rest of a burst waits its turn, and a wait for a connection is no try (with httpx's
# pool timeout, callbacks queued behind a burst failed all their tries without one request and were lost).
CALLBACK_CONNECTIONS = 100  # as many as a busy aggregator keeps open; more calls at once, larger group writes
CALLBACK_TIMEOUT_S = 10.0


def outcomes_from_env() -> dict[str, str]:
    """``PORTAL_STANDIN_VIBER_OUTCOMES="3461500=seen,49151=undelivered@2"``: outcome (and delay in seconds after
    ``@``) by destination prefix, for a stand-in started without explicit ones (`portal run`, `portal simulate`)."""
    pairs = (item.split("=", 1) for item in os.environ.get(OUTCOMES_ENV, "").split(",") if "=" in item)
    return {prefix.strip(): outcome.strip() for prefix, outcome in pairs}


class StandInViber:
    """A Viber aggregator on loopback: checks the API key, accepts messages, calls back signed statuses.

    Knobs (attributes, changeable while it runs): ``outcomes`` (destination prefix → ``outcome`` or
    ``outcome@delay``: delivered, seen (delivered, then seen), undelivered, expired, rejected, never; longest
    prefix wins, else ``default_outcome`` after ``callback_delay`` s), ``throttle_rate`` (messages per second
    above which it answers 429; 0 = never), ``fail_next`` (HTTP statuses to answer the next requests with, in
    order, before accepting again: 429, 503…), ``mute`` (read requests, never answer), ``hold_callbacks``
    (keep callbacks until ``release_callbacks()``), ``webhook_url`` (where inbound messages go; by default the
    last ``callback_url`` a message carried).

    Observations: ``submitted`` (Counter of accepted messages per destination), ``last_requests`` (the last
    ``keep_last`` accepted SendRequests), ``throttled``, ``refused`` (4xx answers), ``callbacks_sent`` (statuses
    the portal acknowledged), ``callback_answers`` (HTTP statuses the portal answered callbacks with).
    """

    channel: ClassVar[str] = "viber"

    def __init__(
        self,
        api_key: str = "demo-key",
        webhook_secret: str = "viber-demo-secret",  # noqa: S107 - the stand-in's documented demo secret
        *,
        outcomes: dict[str, str] | None = None,
        default_outcome: str = "delivered",
        callback_delay: float = 0.0,
        throttle_rate: int = 0,
        keep_last: int = 1000,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.outcomes: dict[str, str] = dict(outcomes if outcomes is not None else outcomes_from_env())
        self.default_outcome = default_outcome
        self.callback_delay = callback_delay
        self.throttle_rate = throttle_rate
        self.fail_next: deque[int] = deque()
        self.mute = False
        self.hold_callbacks = False
        self.webhook_url = os.environ.get(WEBHOOK_ENV, "")
        self.submitted: Counter[str] = Counter()
        self.last_requests: deque[SendRequest] = deque(maxlen=keep_last)
        self.throttled = 0
        self.refused = 0
        self.callbacks_sent = 0
        self.callback_answers: Counter[int] = Counter()
        self.host, self.port = "127.0.0.1", 0
        self.next_id = 1
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held: list[tuple[str, dict[str, Any]]] = []
        self._window_second, self._window_count = 0, 0
        self._clients: dict[str, LeanClient] | None = None  # by scheme, host and port of the portal called back
        self._posting = asyncio.Semaphore(CALLBACK_CONNECTIONS)

    # --- StandIn ------------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        self._clients = {}
        log.info("stand-in Viber aggregator listening on %s:%d", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            # Callbacks under way end here, not after the stand-in is gone (their portal may be stopping too).
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        if self._clients is not None:
            await asyncio.gather(*(client.aclose() for client in self._clients.values()))
            self._clients = None

    def connection_settings(self) -> dict[str, Any]:
        return {
            "api_url": f"http://{self.host}:{self.port}",
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secret,
            "throughput": 1000,
            # Plenty on loopback, where an answer takes a millisecond or so.
            "window": 10,
        }

    async def inject_mo(self, source: str, destination: str, text: str) -> None:
        """Play a subscriber replying to ``destination`` (our sender name): POST it to the webhook, signed."""
        if not self.webhook_url:
            raise RuntimeError("the stand-in Viber aggregator knows no webhook URL yet (set webhook_url)")
        message_id = f"mo-{self.next_id}"
        self.next_id += 1
        body = {
            "message_id": message_id,
            "channel": "viber",
            "recipient_response": {
                "recipient": {"phone": source.removeprefix("+")},
                "from": destination,
                "content": {"type": "text", "text": text},
            },
        }
        status = await self.post_signed(self.webhook_url, body)
        if status != 200:
            raise RuntimeError(f"the portal refused the inbound message: HTTP {status}")

    # --- behaviour ----------------------------------------------------------------------------------------------

    def outcome_for(self, destination: str) -> tuple[str, float]:
        best, best_len = self.default_outcome, -1
        for prefix, outcome in self.outcomes.items():
            if len(prefix) > best_len and destination.startswith(prefix):
                best, best_len = outcome, len(prefix)
        name, _, delay = best.partition("@")
        try:
            return name, float(delay) if delay else self.callback_delay
        except ValueError:
            return name, self.callback_delay

    async def post_signed(self, url: str, body: Any) -> int:
        """POST ``body`` as JSON to ``url`` signed with the webhook secret, as the aggregator does; the status."""
        assert self._clients is not None, "start() first"
        target = httpx.URL(url)
        origin = f"{target.scheme}://{target.netloc.decode()}"
        client = self._clients.get(origin)
        if client is None:
            client = LeanClient(origin, {"content-type": "application/json"}, CALLBACK_TIMEOUT_S)
            self._clients[origin] = client
        raw = msgspec.json.encode(body)
        async with self._posting:
            answer = await client.post(
                target.raw_path.decode(), content=raw, headers={SIGNATURE_HEADER: sign(self.webhook_secret, raw)}
            )
        self.callback_answers[answer.status_code] += 1
        return answer.status_code

    def release_callbacks(self) -> int:
        """Send the callbacks held so far (see ``hold_callbacks``), in order; how many."""
        held, self._held = self._held, []
        self.hold_callbacks = False
        for url, status in held:
            self._spawn(self._callback(url, [status]))
        return len(held)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _callback(self, url: str, statuses: list[dict[str, Any]], delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        pause = 0.2
        for _ in range(6):  # like an aggregator: a few tries with growing pauses, then the report is lost
            try:
                if await self.post_signed(url, statuses) == 200:
                    self.callbacks_sent += len(statuses)
                    return
            except httpx.HTTPError as exc:
                log.warning("stand-in Viber callback to %s failed: %s", url, exc)
            await asyncio.sleep(pause)
            pause *= 2

    def _schedule_callbacks(self, message_id: int, request: SendRequest) -> None:
        url = request.callback_url or self.webhook_url
        outcome, delay = self.outcome_for(request.destination_addr)
        if not url:
            return
        reports = [
            {"message_id": message_id, "status": status, "error_code": 0 if status in ("delivered", "seen") else 1}
            for status in OUTCOMES.get(outcome, OUTCOMES["delivered"])
        ]
        if self.hold_callbacks:
            self._held.extend((url, report) for report in reports)
        elif reports:
            self._spawn(self._callbacks(url, reports, delay))

    async def _callbacks(self, url: str, reports: list[dict[str, Any]], delay: float) -> None:
        """One message's reports, one call each and in order (delivered before seen), as handsets answer."""
        for report in reports:
            await self._callback(url, [report], delay)

    def _throttled(self) -> bool:
        if not self.throttle_rate:
            return False
        second = int(asyncio.get_running_loop().time())
        if second != self._window_second:
            self._window_second, self._window_count = second, 0
        self._window_count += 1
        return self._window_count > self.throttle_rate

    def _handle(self, request: h11.Request, body: bytes) -> tuple[int, dict[str, Any]]:
        if request.method != b"POST" or request.target.split(b"?")[0] != b"/send-viber":
            return 404, {"error": {"name": "Not found", "message": "unknown endpoint"}}
        credentials = base64.b64encode(f"{self.api_key}:".encode())
        if dict(request.headers).get(b"authorization") != b"Basic " + credentials:
            self.refused += 1
            return 401, {"error": {"name": "Unauthorized", "message": "invalid API key"}}
        if self.fail_next:
            status = self.fail_next.popleft()
            self.throttled += status == 429
            return status, {"error": {"name": "Busy", "message": f"try again later ({status})"}}
        if self._throttled():
            self.throttled += 1
            return 429, {"error": {"name": "Too many requests", "message": "throughput exceeded"}}
        try:
            message = _DECODE.decode(body)
        except msgspec.DecodeError as exc:
            self.refused += 1
            return 400, {"error": {"name": "Invalid request", "message": str(exc)}}
        problem = _problem(message)
        if problem:
            self.refused += 1
            return 400, {"error": {"name": "Invalid parameter", "message": problem}}
        message_id = self.next_id
        self.next_id += 1
        self.submitted[message.destination_addr] += 1
        self.last_requests.append(message)
        if message.callback_url and not os.environ.get(WEBHOOK_ENV):
            self.webhook_url = message.callback_url
        self._schedule_callbacks(message_id, message)
        return 200, {"message_id": message_id}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One keep-alive HTTP/1.1 connection (h11): requests answered in order."""
        self._writers.add(writer)
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                request: h11.Request | None = None
                body = bytearray()
                while True:
                    event = connection.next_event()
                    if event is h11.NEED_DATA:
                        connection.receive_data(await reader.read(65_536))
                    elif isinstance(event, h11.Request):
                        request = event
                    elif isinstance(event, h11.Data):
                        body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    else:  # ConnectionClosed, or PAUSED after a protocol switch we never agree to
                        return
                if self.mute or request is None:
                    while await reader.read(65_536):  # read, never answered: the client times out
                        pass
                    return
                status, payload = self._handle(request, bytes(body))
                data = msgspec.json.encode(payload)
                headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
                if status == 429:
                    headers.append(("retry-after", "1"))
                writer.write(connection.send(h11.Response(status_code=status, headers=headers)) or b"")
                writer.write(connection.send(h11.Data(data=data)) or b"")
                writer.write(connection.send(h11.EndOfMessage()) or b"")
                await writer.drain()
                if connection.our_state is h11.MUST_CLOSE:
                    return
                connection.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()


def _problem(message: SendRequest) -> str:
    """Why the aggregator refuses a well-formed message, or ""."""
    if not message.destination_addr.isdigit() or not 7 <= len(message.destination_addr) <= 15:
        return "destination_addr must be 7 to 15 digits"
    if not message.source_addr:
        return "source_addr is required"
    if not message.text and not message.image:
        return "text or image is required"
    if len(message.text) > VIBER_MAX_TEXT:
        return f"text is longer than {VIBER_MAX_TEXT} characters"
    if not MIN_TTL <= message.validity_period <= MAX_TTL:
        return f"validity_period must be {MIN_TTL} to {MAX_TTL} seconds"
    if bool(message.button_caption) != bool(message.button_action):
        return "button_caption and button_action go together"
    return ""
