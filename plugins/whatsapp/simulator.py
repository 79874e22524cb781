"""Stand-in WhatsApp Cloud API: template messages and template submissions on loopback, with signed status,
inbound and template-review webhooks, for the demo, the tests and the benchmarks (CHN-4)."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
import re
import time
from collections import Counter, deque
from typing import Any, ClassVar
from urllib.parse import parse_qs

import h11
import httpx
import msgspec

from plugins.whatsapp.provider import SIGNATURE_HEADER, sign
from plugins.whatsapp.schemas import SendRequest, TemplateRequest

log = logging.getLogger(__name__)

# Outcome → the statuses the stand-in reports, in order, each a webhook; a failure carries error 131026.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "delivered": ("sent", "delivered"),
    "read": ("sent", "delivered", "read"),
    "read_only": ("sent", "read"),  # read without delivered, as Meta may report
    "failed": ("sent", "failed"),
    "failed_then_delivered": ("sent", "failed", "delivered"),  # multi-device users
    "never": ("sent",),
}
UNDELIVERABLE = 131026
OUTCOMES_ENV = "PORTAL_STANDIN_WHATSAPP_OUTCOMES"
WEBHOOK_ENV = "PORTAL_STANDIN_WHATSAPP_WEBHOOK"
_DECODE_SEND = msgspec.json.Decoder(SendRequest)
_DECODE_TEMPLATE = msgspec.json.Decoder(TemplateRequest)


def outcomes_from_env() -> dict[str, str]:
    """``PORTAL_STANDIN_WHATSAPP_OUTCOMES="3461500=read,49151=failed@2"``: outcome (and delay in seconds after
    ``@``) by destination prefix, for a stand-in started without explicit ones (`portal run`, `portal simulate`)."""
    pairs = (item.split("=", 1) for item in os.environ.get(OUTCOMES_ENV, "").split(",") if "=" in item)
    return {prefix.strip(): outcome.strip() for prefix, outcome in pairs}


class StandInWhatsApp:
    """Meta's Graph API for one business account on loopback: checks the bearer token, accepts template
    messages and submitted templates, and calls ``webhook_url`` with signed webhooks as Meta does.

    Knobs (attributes, changeable while it runs): ``outcomes`` (destination prefix → ``outcome`` or
    ``outcome@delay``, see OUTCOMES; longest prefix wins, else ``default_outcome`` after ``callback_delay`` s),
    ``duplicate`` (send every status webhook twice), ``throttle_rate`` (messages per second above which it
    answers 429 with error 130429; 0 = never), ``fail_next`` (HTTP statuses to answer the next messages with:
    429 carries 130429, others error 131000), ``rejected_names`` (fnmatch patterns of template names it rejects;
    the others are approved ``review_delay`` s after submission), ``webhook_url`` (where every webhook goes).

    Observations: ``submitted`` (Counter of accepted messages per destination), ``last_requests`` (the last
    ``keep_last`` accepted SendRequests), ``templates`` (submitted TemplateRequests by id), ``template_status``,
    ``throttled``, ``refused``, ``deleted_templates`` (TemplateRequests deleted, in order), ``webhooks_sent`` and
    ``webhook_answers`` (HTTP statuses the portal answered webhooks with).
    """

    channel: ClassVar[str] = "whatsapp"

    def __init__(
        self,
        access_token: str = "demo-token",  # noqa: S107 - the stand-in's documented demo token
        app_secret: str = "whatsapp-demo-secret",  # noqa: S107
        *,
        phone_number_id: str = "100200300",
        business_account_id: str = "900800700",
        display_phone_number: str = "34910000000",
        outcomes: dict[str, str] | None = None,
        default_outcome: str = "delivered",
        callback_delay: float = 0.0,
        review_delay: float = 0.0,
        throttle_rate: int = 0,
        keep_last: int = 1000,
    ) -> None:
        self.access_token, self.app_secret = access_token, app_secret
        self.phone_number_id, self.business_account_id = phone_number_id, business_account_id
        self.display_phone_number = display_phone_number
        self.outcomes: dict[str, str] = dict(outcomes if outcomes is not None else outcomes_from_env())
        self.default_outcome = default_outcome
        self.callback_delay, self.review_delay = callback_delay, review_delay
        self.duplicate = False
        self.throttle_rate = throttle_rate
        self.fail_next: deque[int] = deque()
        self.rejected_names: list[str] = ["*reject*"]
        self.webhook_url = os.environ.get(WEBHOOK_ENV, "")
        self.submitted: Counter[str] = Counter()
        self.last_requests: deque[SendRequest] = deque(maxlen=keep_last)
        self.templates: dict[str, TemplateRequest] = {}
        self.template_status: dict[str, tuple[str, str | None]] = {}  # Meta's status and reason, once reviewed
        self.deleted_templates: list[TemplateRequest] = []
        self.throttled = 0
        self.refused = 0
        self.webhooks_sent = 0
        self.webhook_answers: Counter[int] = Counter()
        self.host, self.port = "127.0.0.1", 0
        self.next_id = 1
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._window_second, self._window_count = 0, 0
        self._http: httpx.AsyncClient | None = None

    # --- StandIn ------------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        self._http = httpx.AsyncClient(timeout=10.0)
        log.info("stand-in WhatsApp Cloud API listening on %s:%d", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def connection_settings(self) -> dict[str, Any]:
        return {
            "api_url": f"http://{self.host}:{self.port}",
            "access_token": self.access_token,
            "phone_number_id": self.phone_number_id,
            "business_account_id": self.business_account_id,
            "app_secret": self.app_secret,
            "verify_token": "whatsapp-demo-verify",
            "throughput": 1000,
            "window": 10,
        }

    async def inject_mo(self, source: str, destination: str, text: str) -> None:
        """Play a customer writing to ``destination`` (our business number): a signed ``messages`` webhook."""
        await self._inject(source, destination, {"type": "text", "text": {"body": text}})

    async def tap_button(self, source: str, destination: str, text: str, payload: str = "", context: str = "") -> None:
        """Play a customer tapping a quick-reply button of our message ``context`` (its wamid)."""
        message: dict[str, Any] = {"type": "button", "button": {"payload": payload or text, "text": text}}
        if context:
            message["context"] = {"from": destination, "id": context}
        await self._inject(source, destination, message)

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

    async def post_signed(self, body: Any) -> int:
        """POST ``body`` as JSON to the webhook, signed with the app secret as Meta does; the HTTP status."""
        assert self._http is not None, "start() first"
        if not self.webhook_url:
            raise RuntimeError("the stand-in WhatsApp API knows no webhook URL yet (set webhook_url)")
        raw = msgspec.json.encode(body)
        answer = await self._http.post(
            self.webhook_url,
            content=raw,
            headers={"content-type": "application/json", SIGNATURE_HEADER: sign(self.app_secret, raw)},
        )
        self.webhook_answers[answer.status_code] += 1
        return answer.status_code

    def envelope(self, field: str, value: dict[str, Any]) -> dict[str, Any]:
        """Meta's webhook wrapping: one entry for the business account, one change."""
        if field == "messages":
            ours = {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id}
            value = {"messaging_product": "whatsapp", "metadata": ours, **value}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.business_account_id, "changes": [{"field": field, "value": value}]}],
        }

    async def _inject(self, source: str, destination: str, message: dict[str, Any]) -> None:
        message_id = f"wamid.mo{self.next_id}"
        self.next_id += 1
        value = {
            "contacts": [{"profile": {"name": "Customer"}, "wa_id": source.removeprefix("+")}],
            "messages": [
                {"from": source.removeprefix("+"), "id": message_id, "timestamp": str(int(time.time())), **message}
            ],
        }
        body = self.envelope("messages", value)
        if destination:
            body["entry"][0]["changes"][0]["value"]["metadata"]["display_phone_number"] = destination.removeprefix("+")
        status = await self.post_signed(body)
        if status != 200:
            raise RuntimeError(f"the portal refused the inbound message: HTTP {status}")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, body: dict[str, Any]) -> None:
        pause = 0.2
        for _ in range(6):  # Meta retries a failed webhook with growing pauses; the stand-in a few times
            try:
                if await self.post_signed(body) == 200:
                    self.webhooks_sent += 1
                    return
            except (httpx.HTTPError, RuntimeError) as exc:
                log.warning("stand-in WhatsApp webhook to %s failed: %s", self.webhook_url, exc)
            await asyncio.sleep(pause)
            pause *= 2

    async def _statuses(self, message_id: str, request: SendRequest) -> None:
        """One message's statuses, one webhook each and in order (twice each with ``duplicate``)."""
        outcome, delay = self.outcome_for(request.to)
        if delay:
            await asyncio.sleep(delay)
        for word in OUTCOMES.get(outcome, OUTCOMES["delivered"]):
            status: dict[str, Any] = {
                "id": message_id,
                "status": word,
                "timestamp": str(int(time.time())),
                "recipient_id": request.to,
                "biz_opaque_callback_data": request.biz_opaque_callback_data,
            }
            if word == "failed":
                status["errors"] = [{"code": UNDELIVERABLE, "title": "Message undeliverable"}]
            body = self.envelope("messages", {"statuses": [status]})
            for _ in range(2 if self.duplicate else 1):
                await self._deliver(body)

    async def _review(self, template_id: str, template: TemplateRequest) -> None:
        """Meta's verdict on a submitted template, as a ``message_template_status_update`` webhook."""
        if self.review_delay:
            await asyncio.sleep(self.review_delay)
        if template_id not in self.templates:
            return  # deleted before its review
        rejected = any(fnmatch.fnmatch(template.name, pattern) for pattern in self.rejected_names)
        self.template_status[template_id] = ("REJECTED", "INVALID_FORMAT") if rejected else ("APPROVED", None)
        value = {
            "event": "REJECTED" if rejected else "APPROVED",
            "message_template_id": int(template_id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "reason": "INVALID_FORMAT" if rejected else None,
            "message_template_category": template.category,
        }
        await self._deliver(self.envelope("message_template_status_update", value))

    def _throttled(self) -> bool:
        if not self.throttle_rate:
            return False
        second = int(asyncio.get_running_loop().time())
        if second != self._window_second:
            self._window_second, self._window_count = second, 0
        self._window_count += 1
        return self._window_count > self.throttle_rate

    def _handle(self, request: h11.Request, body: bytes) -> tuple[int, dict[str, Any]]:
        parts = request.target.split(b"?")[0].decode(errors="replace").strip("/").split("/")
        lookup = request.method == b"GET" and len(parts) == 2
        posted = request.method == b"POST" and len(parts) == 3 and parts[2] in ("messages", "message_templates")
        deleted = request.method == b"DELETE" and len(parts) == 3 and parts[2] == "message_templates"
        if not (lookup or posted or deleted):
            return 404, _error(100, "Unknown path")
        if dict(request.headers).get(b"authorization") != f"Bearer {self.access_token}".encode():
            self.refused += 1
            return 401, _error(190, "Invalid OAuth access token")
        if deleted:
            query = parse_qs(request.target.partition(b"?")[2].decode(errors="replace"))
            return self._delete_template(parts[1], query.get("name", [""])[0], query.get("hsm_id", [""])[0])
        if lookup:
            if parts[1] not in self.templates:
                return 404, _error(100, "Unknown template")
            template = self.templates[parts[1]]
            verdict, reason = self.template_status.get(parts[1], ("PENDING", None))
            return 200, {"id": parts[1], "name": template.name, "status": verdict, "rejected_reason": reason}
        if parts[2] == "message_templates":
            return self._submit_template(parts[1], body)
        if parts[1] != self.phone_number_id:
            self.refused += 1
            return 400, _error(100, "Unknown phone number id")
        if self.fail_next:
            status = self.fail_next.popleft()
            self.throttled += status == 429
            return status, _error(130429 if status == 429 else 131000, f"try again later ({status})")
        if self._throttled():
            self.throttled += 1
            return 429, _error(130429, "Rate limit hit")
        try:
            message = _DECODE_SEND.decode(body)
        except msgspec.DecodeError as exc:
            self.refused += 1
            return 400, _error(100, str(exc))
        if not message.to.isdigit() or not 7 <= len(message.to) <= 15:
            self.refused += 1
            return 400, _error(100, "to must be 7 to 15 digits")
        if problem := self._parameter_problem(message):
            self.refused += 1
            return 400, _error(132000, f"Number of parameters does not match the expected number of params: {problem}")
        message_id = f"wamid.{self.next_id}"
        self.next_id += 1
        self.submitted[message.to] += 1
        self.last_requests.append(message)
        if self.webhook_url:
            self._spawn(self._statuses(message_id, message))
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": message.to, "wa_id": message.to}],
            "messages": [{"id": message_id, "message_status": "accepted"}],
        }

    def _parameter_problem(self, message: SendRequest) -> str:
        """Meta's check of a template message against its template (one submitted here; others pass, as in tests
        that make approved templates without submitting them): a text header or link button with a parameter
        needs it, and so does each body parameter; "" when the parameters match."""
        found = [
            t
            for t in self.templates.values()
            if (t.name, t.language) == (message.template.name, message.template.language.code)
        ]
        if not found or found[-1].category == "AUTHENTICATION":
            return ""
        given = {(c.type, c.index): c for c in message.template.components}
        for component in found[-1].components:
            kind, text = component.get("type"), str(component.get("text", ""))
            if kind == "HEADER" and component.get("format") == "TEXT" and _VARIABLE.search(text):
                header = given.get(("header", ""))
                if header is None or len(header.parameters) != 1 or not header.parameters[0].text:
                    return "header"
            elif kind == "BODY":
                body = given.get(("body", ""))
                if len({*_VARIABLE.findall(text)}) != len(body.parameters if body else []):
                    return "body"
            elif kind == "BUTTONS":
                for n, button in enumerate(component.get("buttons") or []):
                    if button.get("type") == "URL" and _VARIABLE.search(str(button.get("url", ""))):
                        link = given.get(("button", str(n)))
                        if link is None or link.sub_type != "url" or len(link.parameters) != 1:
                            return f"button {n}"
        return ""

    def _submit_template(self, account: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if account != self.business_account_id:
            self.refused += 1
            return 400, _error(100, "Unknown WhatsApp Business account")
        try:
            template = _DECODE_TEMPLATE.decode(body)
        except msgspec.DecodeError as exc:
            self.refused += 1
            return 400, _error(100, str(exc))
        problem = (
            _authentication_problem(template.components)
            if template.category == "AUTHENTICATION"
            else _component_problem(template.components)
        )
        if problem:
            self.refused += 1
            return 400, _error(100, f"Invalid parameter: {problem}")
        template_id = str(10_000 + self.next_id)
        self.next_id += 1
        self.templates[template_id] = template
        if self.webhook_url:
            self._spawn(self._review(template_id, template))
        return 200, {"id": template_id, "status": "PENDING", "category": template.category}

    def _delete_template(self, account: str, name: str, hsm_id: str) -> tuple[int, dict[str, Any]]:
        """Meta's DELETE /{waba-id}/message_templates: ``name`` is required; with ``hsm_id`` only that template
        (one language) goes, by name alone every language of it."""
        if account != self.business_account_id:
            self.refused += 1
            return 400, _error(100, "Unknown WhatsApp Business account")
        if not name:
            self.refused += 1
            return 400, _error(100, "(#100) The parameter name is required")
        ids = [i for i, t in self.templates.items() if t.name == name and (not hsm_id or i == hsm_id)]
        if not ids:
            return 404, _error(100, f"Message template {name!r} not found")
        for template_id in ids:
            self.deleted_templates.append(self.templates.pop(template_id))
            self.template_status.pop(template_id, None)
        return 200, {"success": True}

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
                    else:
                        return
                if request is None:
                    return
                status, payload = self._handle(request, bytes(body))
                data = msgspec.json.encode(payload)
                headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
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


_VARIABLE = re.compile(r"\{\{\s*\d+\s*\}\}")


def _component_problem(components: list[dict[str, Any]]) -> str:
    """What Meta would refuse in a submitted template's components, or "" when it takes them."""
    types = [c.get("type") for c in components]
    if types.count("BODY") != 1 or any(types.count(t) > 1 for t in types):
        return "exactly one BODY and at most one HEADER, FOOTER and BUTTONS"
    for component in components:
        kind, text = component.get("type"), str(component.get("text", ""))
        if kind == "HEADER":
            header_format = component.get("format")
            if header_format == "TEXT":
                variables = len(_VARIABLE.findall(text))
                if not text or len(text) > 60 or variables > 1:
                    return "HEADER text: 1 to 60 characters, at most one variable"
                if variables and not component.get("example", {}).get("header_text"):
                    return "HEADER text variable needs example.header_text"
            elif header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
                if not component.get("example", {}).get("header_handle"):
                    return "media HEADER needs example.header_handle"
            elif header_format != "LOCATION":
                return f"HEADER format {header_format!r}"
        elif kind == "BODY":
            if not text or len(text) > 1024 or "add_security_recommendation" in component:
                return "BODY text: 1 to 1024 characters"
        elif kind == "FOOTER":
            if not text or len(text) > 60 or _VARIABLE.search(text):
                return "FOOTER text: 1 to 60 characters, no variables"
        elif kind == "BUTTONS":
            problem = _buttons_problem(component.get("buttons") or [])
            if problem:
                return problem
        else:
            return f"component type {kind!r}"
    return ""


def _authentication_problem(components: list[dict[str, Any]]) -> str:
    """Meta's authentication template: its text is Meta's, so a BODY with only ``add_security_recommendation``,
    an optional FOOTER with only ``code_expiration_minutes`` (1 to 90), and BUTTONS with one OTP button."""
    types = [c.get("type") for c in components]
    if types.count("BODY") != 1 or types.count("BUTTONS") != 1 or any(types.count(t) > 1 for t in types):
        return "authentication: one BODY, one BUTTONS, at most one FOOTER"
    for component in components:
        kind = component.get("type")
        if kind == "BODY":
            if "text" in component or not isinstance(component.get("add_security_recommendation", False), bool):
                return "authentication BODY takes no text, only add_security_recommendation"
        elif kind == "FOOTER":
            minutes = component.get("code_expiration_minutes")
            if "text" in component or not isinstance(minutes, int) or not 1 <= minutes <= 90:
                return "authentication FOOTER: code_expiration_minutes from 1 to 90, no text"
        elif kind == "BUTTONS":
            buttons = component.get("buttons") or []
            if len(buttons) != 1 or buttons[0].get("type") != "OTP":
                return "authentication BUTTONS: exactly one OTP button"
            button = buttons[0]
            if button.get("otp_type") not in ("COPY_CODE", "ONE_TAP", "ZERO_TAP"):
                return "buttons[0].otp_type"
            if not 1 <= len(str(button.get("text", ""))) <= 25:
                return "buttons[0].text: 1 to 25 characters"
        else:
            return f"component type {kind!r} in an authentication template"
    return ""


def _buttons_problem(buttons: list[dict[str, Any]]) -> str:
    kinds = [b.get("type") for b in buttons]
    if not 1 <= len(buttons) <= 10 or kinds.count("URL") > 2 or kinds.count("PHONE_NUMBER") > 1:
        return "BUTTONS: 1 to 10, at most 2 URL and 1 PHONE_NUMBER"
    for n, button in enumerate(buttons):
        text, url = str(button.get("text", "")), str(button.get("url", ""))
        if not text or len(text) > 25:
            return f"buttons[{n}].text: 1 to 25 characters"
        if button.get("type") == "URL":
            variables = _VARIABLE.findall(url)
            if not url.startswith("https://") or len(variables) > 1 or (variables and not url.endswith(variables[0])):
                return f"buttons[{n}].url: https, one variable at most, at its end"
            if variables and not button.get("example"):
                return f"buttons[{n}].example is required for a URL variable"
        elif button.get("type") == "PHONE_NUMBER":
            if not re.fullmatch(r"\+[1-9][0-9]{6,14}", str(button.get("phone_number", ""))):
                return f"buttons[{n}].phone_number"
        elif button.get("type") != "QUICK_REPLY":  # OTP too: only authentication templates have it
            return f"buttons[{n}].type {button.get('type')!r}"
    return ""


def _error(code: int, message: str) -> dict[str, Any]:
    """Graph API's error body."""
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "standin"}}
