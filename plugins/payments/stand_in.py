"""A local stand-in for Stripe (`portal simulate payments`): Checkout Sessions, a hosted page with Pay and Cancel,
and webhooks signed as Stripe signs them, so the demo and the tests top up offline."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import os
import secrets
import time
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import httpx
import msgspec

from core import ProviderError

log = logging.getLogger(__name__)

SECRET_KEY = "sk_test_standin"
WEBHOOK_SECRET = "whsec_standin"
# How the webhook goes out after Pay: once (as Stripe does), twice, late (after DELAY seconds) or none.
WEBHOOK_MODES = ("once", "twice", "late", "none")
MAX_REQUEST = 64 * 1024
REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``body``: HMAC-SHA256 over ``"<t>.<body>"`` keyed with the secret."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{body.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class _Response(msgspec.Struct, kw_only=True):
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    location: str = ""


def _json(status: int, data: Any) -> _Response:
    return _Response(status=status, body=msgspec.json.encode(data))


def _error(status: int, message: str) -> _Response:
    return _json(status, {"error": {"type": "invalid_request_error", "message": message}})


class StandInStripe:
    """Plays Stripe's API and checkout pages on loopback; one per process, sessions kept in memory."""

    channel: ClassVar[str] = "payments"
    provider: ClassVar[str] = "stripe"

    def __init__(self) -> None:
        self.webhook_secret = os.environ.get("PORTAL_STANDIN_PAYMENTS_WEBHOOK_SECRET", WEBHOOK_SECRET)
        self.webhook_mode = os.environ.get("PORTAL_STANDIN_PAYMENTS_WEBHOOK", "once")
        self.delay = float(os.environ.get("PORTAL_STANDIN_PAYMENTS_DELAY", "5"))
        # Empty: the portal the payer returns to, at /payments/stripe/webhook (as a Stripe endpoint is set up).
        self.webhook_url = os.environ.get("PORTAL_STANDIN_PAYMENTS_WEBHOOK_URL", "")
        self.sessions: dict[str, dict[str, Any]] = {}
        self.by_idempotency_key: dict[str, str] = {}
        self.webhook_statuses: list[int] = []  # the portal's answer to each webhook sent, for tests to wait on
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._release = asyncio.Event()
        self._port = 0
        self._host = "127.0.0.1"

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        self._host, self._port = host, self._server.sockets[0].getsockname()[1]
        return self._port

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def connection_settings(self) -> dict[str, Any]:
        """The settings of a payment account (provider ``stripe``) that uses this stand-in."""
        return {
            "secret_key": SECRET_KEY,
            "webhook_secret": self.webhook_secret,
            "currency": "EUR",
            "api_base": f"http://{self._host}:{self._port}",
        }

    async def inject_mo(self, source: str, destination: str, text: str) -> None:
        raise ProviderError("A payment system receives no messages")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if length > MAX_REQUEST:
                response = _error(400, "Request too large")
            else:
                body = await reader.readexactly(length) if length else b""
                response = await self._route(method, target, headers, body)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            response = _error(400, "Malformed request")
        extra = f"Location: {response.location}\r\n" if response.location else ""
        writer.write(
            f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'OK')}\r\n"
            f"Content-Type: {response.content_type}\r\nContent-Length: {len(response.body)}\r\n{extra}"
            "Connection: close\r\n\r\n".encode()
            + response.body
        )
        await writer.drain()
        writer.close()

    async def _route(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Response:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        if method == "POST" and url.path == "/v1/checkout/sessions":
            return self._create_session(headers, dict(parse_qsl(body.decode())))
        if len(parts) == 2 and parts[0] == "checkout" and method == "GET":
            return self._page(parts[1], query.get("webhook", ""))
        if len(parts) == 3 and parts[0] == "checkout" and method == "POST" and parts[2] in ("pay", "cancel"):
            form = dict(parse_qsl(body.decode()))
            return await self._finish(parts[1], paid=parts[2] == "pay", mode=form.get("webhook", ""))
        return _error(404, f"Unrecognized request URL ({method}: {url.path})")

    def _create_session(self, headers: dict[str, str], form: dict[str, str]) -> _Response:
        if not headers.get("authorization", "").startswith("Bearer sk_"):
            return _error(401, "Invalid API Key provided")
        key = headers.get("idempotency-key", "")
        if key in self.by_idempotency_key:
            return _json(200, self.sessions[self.by_idempotency_key[key]])
        try:
            amount = int(form["line_items[0][price_data][unit_amount]"]) * int(form.get("line_items[0][quantity]", "1"))
            session_id = f"cs_test_{secrets.token_hex(12)}"
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": form.get("mode", "payment"),
                "amount_total": amount,
                "currency": form["line_items[0][price_data][currency]"],
                "description": form.get("line_items[0][price_data][product_data][name]", ""),
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                "success_url": form["success_url"],
                "cancel_url": form["cancel_url"],
                "status": "open",
                "payment_status": "unpaid",
                "url": f"http://{self._host}:{self._port}/checkout/{session_id}",
            }
        except (KeyError, ValueError) as exc:
            return _error(400, f"Missing or invalid parameter: {exc}")
        self.sessions[session_id] = session
        if key:
            self.by_idempotency_key[key] = session_id
        return _json(200, session)

    def _page(self, session_id: str, mode: str) -> _Response:
        session = self.sessions.get(session_id)
        if session is None:
            return _error(404, "No such checkout session")
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        hidden = f'<input type="hidden" name="webhook" value="{html.escape(mode)}">'
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stand-in checkout</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:4rem auto;padding:1rem}}
button{{font-size:1rem;padding:.6rem 1.4rem;margin-right:.5rem}}</style></head><body>
<h1>Stand-in checkout</h1><p>{html.escape(session["description"])}</p>
<p>Amount: <strong id="amount">{html.escape(amount)}</strong></p>
<p>Status: {html.escape(session["status"])}</p>
<form method="post" action="/checkout/{session_id}/pay" style="display:inline">{hidden}
<button type="submit">Pay</button></form>
<form method="post" action="/checkout/{session_id}/cancel" style="display:inline">{hidden}
<button type="submit">Cancel</button></form></body></html>"""
        return _Response(status=200, body=page.encode(), content_type="text/html; charset=utf-8")

    async def _finish(self, session_id: str, *, paid: bool, mode: str) -> _Response:
        session = self.sessions.get(session_id)
        if session is None:
            return _error(404, "No such checkout session")
        if session["status"] == "open":
            session.update(
                {"status": "complete", "payment_status": "paid"} if paid else {"status": "expired"},
            )
            kind = "checkout.session.completed" if paid else "checkout.session.expired"
            await self.send_event(kind, session, mode if mode in WEBHOOK_MODES else self.webhook_mode)
        return _Response(status=303, location=session["success_url"] if paid else session["cancel_url"])

    @staticmethod
    def event_body(kind: str, session: dict[str, Any]) -> bytes:
        """The JSON of a Stripe event of ``kind`` about ``session``, exactly the bytes to sign and post."""
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": dict(session)},
        }
        return msgspec.json.encode(event)

    async def send_event(self, kind: str, session: dict[str, Any], mode: str = "once") -> None:
        """Post a signed event about ``session`` to the portal it came from, as ``mode`` asks."""
        body = self.event_body(kind, session)
        if mode == "once":
            await self._post(body)
        elif mode == "twice":
            await asyncio.gather(self._post(body), self._post(body))
        elif mode == "late":
            task = asyncio.create_task(self._post(body, delay=self.delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def release_late(self) -> None:
        """Send the webhooks held back by ``late`` now, rather than when their delay runs out."""
        self._release.set()

    async def _post(self, body: bytes, *, delay: float = 0) -> None:
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), delay)
        session = msgspec.json.decode(body)["data"]["object"]
        origin = urlsplit(session["success_url"])
        url = self.webhook_url or (f"{origin.scheme}://{origin.netloc}/payments/stripe/webhook")
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, self.webhook_secret)}
        target = urlsplit(url)
        if target.hostname and target.hostname.endswith(".localhost"):
            # RFC 6761: *.localhost is this machine, but the system resolver may not know the demo's names.
            headers["Host"] = target.netloc
            url = target._replace(netloc=f"127.0.0.1:{target.port or 80}").geturl()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("stand-in webhook to %s failed: %s", url, exc)
            self.webhook_statuses.append(0)
            return
        self.webhook_statuses.append(answer.status_code)
