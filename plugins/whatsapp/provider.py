"""The WhatsApp channel: Cloud API template messages over one pooled HTTP client per phone number, and Meta's
signed webhooks (statuses, inbound messages, template reviews) and hub.challenge handshake."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

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
    ProviderError,
    SendResult,
    SubmitProgress,
    TemplateReview,
    TemplateSubmission,
    Unauthenticated,
    VendorConnection,
    WebhookRequest,
    template_params,
)
from plugins.whatsapp.schemas import (
    Component,
    Envelope,
    ErrorAnswer,
    Inbound,
    Language,
    Parameter,
    SendAnswer,
    SendRequest,
    Status,
    Template,
    TemplateAnswer,
    TemplateRequest,
    Value,
    WhatsAppSettings,
)

SIGNATURE_HEADER = "x-hub-signature-256"  # "sha256=" + hex HMAC-SHA256 of the raw body, keyed with the app secret
NO_CONNECTION = "no WhatsApp vendor connection is configured"
NO_TEMPLATE = "no approved WhatsApp template was chosen"
MAX_ID, MAX_ADDRESS = 65, 20  # the longest vendor message id and MO address the core stores
EDR_TAG = "edr:"  # biz_opaque_callback_data = "edr:<EDR id>", echoed in every status webhook
# Meta's status words → DELIVERY_STATES keys: read (and played, for voice) is seen; failed is final negative.
STATUS_WORDS = {
    "sent": "accepted",
    "delivered": "delivered",
    "read": "seen",
    "played": "seen",
    "failed": "undelivered",
    "deleted": "deleted",
}
# Meta's error codes (protocols.md §4), the one table of what they mean here: throttling codes are retried with
# back-off (DSP-4); any other refuses the message (FAILED at once, or UNDELIVERED when a webhook reports it).
THROTTLING = frozenset({4, 80007, 130429, 131056})
REASONS: dict[int, str] = {
    4: "too many API calls for the app",
    80007: "the WhatsApp Business account's rate limit was reached",
    130429: "the phone number's throughput was exceeded",
    131056: "too many messages to this number in a short time",
    131026: "the number cannot receive this message (no WhatsApp, or an old version)",
    131047: "more than 24 hours since the customer last replied",
    131048: "spam rate limit: too many messages were blocked or flagged",
    131049: "Meta limits marketing messages to this user",
    131050: "the user stopped marketing messages",
    131051: "unsupported message type",
    132000: "the number of template parameters does not match the template",
    132001: "the template does not exist in this language, or is not approved",
    132015: "the template is paused for low quality",
    132016: "the template is disabled for low quality",
    190: "the access token expired or is invalid",
    100: "an invalid parameter",
}
# Meta's template lifecycle (protocols.md §4) → ours: only an approved template can be sent; FLAGGED changes nothing.
TEMPLATE_EVENTS: dict[str, Literal["pending", "approved", "rejected"]] = {
    "APPROVED": "approved",
    "REINSTATED": "approved",
    "PENDING": "pending",
    "IN_APPEAL": "pending",
    "REJECTED": "rejected",
    "DISABLED": "rejected",
    "PAUSED": "rejected",
    "DELETED": "rejected",
    "PENDING_DELETION": "rejected",
}
_BODY = msgspec.json.Decoder(Envelope)
_ENCODE = msgspec.json.Encoder()


class GoneError(ProviderError):
    """Meta answered 404: the object asked for does not exist (any more)."""


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header Meta sends with a webhook (and the stand-in computes)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def reason(code: int) -> str:
    return REASONS.get(code, "refused by WhatsApp")


# The keys of a campaign's content (``extra``) holding its text header's value and each link button's URL suffix,
# the latter by the button's index in the template.
HEADER_PARAM = "template_header_param"
BUTTON_PARAM = "template_button_"


def request_body(message: OutboundMessage) -> SendRequest | None:
    """The Cloud API's JSON for one message, from ``extra``'s template_name, template_language and template_body
    (as a campaign hands them over; template_code_button: an authentication template, whose code goes to its
    button too; template_header_param and template_button_<index>: the text header's and link buttons' values);
    None when no template was chosen or the text does not fit its body."""
    extra = message.extra
    name, body = extra.get("template_name", ""), extra.get("template_body", "")
    params = template_params(body, message.text) if body else []
    if not name or params is None:
        return None
    components = [Component(type="body", parameters=[Parameter(text=p) for p in params])] if params else []
    if extra.get("template_code_button") and params:
        # An authentication template's copy-code button takes the code again, as a url parameter (Meta's rule).
        components.append(Component(type="button", sub_type="url", index="0", parameters=[Parameter(text=params[0])]))
    if media := extra.get("template_media", ""):
        # A media header's link (image, video or document), named by its type as Meta asks.
        header = msgspec.convert({"type": media, media: {"link": extra.get("template_media_url", "")}}, Parameter)
        components.insert(0, Component(type="header", parameters=[header]))
    elif header_text := extra.get(HEADER_PARAM, ""):
        components.insert(0, Component(type="header", parameters=[Parameter(text=header_text)]))
    for key in sorted(
        (k for k in extra if k.startswith(BUTTON_PARAM)), key=lambda k: int(k.removeprefix(BUTTON_PARAM))
    ):
        # A link button's URL suffix, the button named by its index in the template.
        index = key.removeprefix(BUTTON_PARAM)
        components.append(
            Component(type="button", sub_type="url", index=index, parameters=[Parameter(text=extra[key])])
        )
    return SendRequest(
        to=message.destination.removeprefix("+"),
        template=Template(
            name=name, language=Language(code=extra.get("template_language") or "en_US"), components=components
        ),
        biz_opaque_callback_data=f"{EDR_TAG}{message.edr_id}",
    )


class WhatsAppClient(HttpVendorClient):
    """Sends to one phone number of a WhatsApp Business account (see HttpVendorClient for the window, the rate
    and the retries)."""

    vendor: ClassVar[str] = "WhatsApp"

    def __init__(self, connection: VendorConnection, **options: Any) -> None:
        settings = msgspec.convert(connection.settings, WhatsAppSettings, strict=False)
        super().__init__(
            connection,
            settings,
            base_url=f"{settings.api_url.rstrip('/')}/{settings.api_version}",
            headers={"authorization": f"Bearer {settings.access_token}"},
            **options,
        )
        self.path = f"/{settings.phone_number_id}/messages"

    def request(self, message: OutboundMessage) -> tuple[str, bytes]:
        body = request_body(message)
        return self.path, b"" if body is None else _ENCODE.encode(body)

    async def submit(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None, *, hold: bool = False
    ) -> list[SendResult]:
        """Messages without a usable template fail here, never reaching Meta; the rest go as usual."""
        good = [m for m in messages if request_body(m) is not None]
        sent = {r.edr_id: r for r in await super().submit(good, progress, hold=hold)} if good else {}
        results = []
        for message in messages:
            result = sent.get(message.edr_id) or SendResult(edr_id=message.edr_id, accepted=False, error=NO_TEMPLATE)
            if message.edr_id not in sent and progress is not None:
                progress.answered(result)
            results.append(result)
        return results

    def accepted(self, message: OutboundMessage, answer: httpx.Response) -> SendResult:
        try:
            message_id = msgspec.json.decode(answer.content, type=SendAnswer).messages[0].id
        except (msgspec.DecodeError, IndexError):
            return SendResult(
                edr_id=message.edr_id, accepted=False, unknown=True, error="WhatsApp's answer is unreadable"
            )
        return SendResult(
            edr_id=message.edr_id, accepted=True, vendor_message_id=message_id, connection=self.connection.id
        )

    def refusal(self, answer: httpx.Response) -> str:
        code = _error_code(answer)
        return f"refused by WhatsApp (HTTP {answer.status_code}, error {code}: {reason(code)})"

    def retryable(self, answer: httpx.Response) -> bool:
        return super().retryable(answer) or _error_code(answer) in THROTTLING


def _error_code(answer: httpx.Response) -> int:
    try:
        return msgspec.json.decode(answer.content, type=ErrorAnswer).error.code
    except msgspec.DecodeError:
        return 0


class WhatsAppChannel:
    """``client_options`` are passed to every WhatsAppClient (tests shorten back-offs with them)."""

    name: ClassVar[str] = "whatsapp"
    label: ClassVar[str] = "WhatsApp"
    settings_type: ClassVar[type[WhatsAppSettings]] = WhatsAppSettings
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(templates=True, seen=True, submit_progress=True)

    def __init__(self, client_options: dict[str, Any] | None = None) -> None:
        self.client_options = dict(client_options or {})
        self.clients: dict[int, WhatsAppClient] = {}

    def segments(self, text: str) -> int:
        """WhatsApp bills per template message."""
        return 1 if text else 0

    async def start(self, portal: Portal) -> None:
        """One client per enabled connection (a phone number); Meta calls back the webhook set up in its app."""
        await self.stop()
        self.clients = {
            c.id: WhatsAppClient(c, redis=getattr(portal, "redis", None), **self.client_options)
            for c in await portal.vendor_connections(self.name)
        }

    async def stop(self) -> None:
        clients, self.clients = list(self.clients.values()), {}
        await asyncio.gather(*(client.close() for client in clients))

    async def send_batch(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None
    ) -> Sequence[SendResult]:
        """Spread the batch over the phone numbers in proportion to their throughput; results in order.

        Raises:
            TemporaryProviderError: the one connection's API cannot be reached; nothing was sent.
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

    async def submit_template(self, connection: VendorConnection, template: TemplateSubmission) -> TemplateReview:
        """POST the template to the business account's message_templates; Meta answers PENDING, then reviews it.

        Raises:
            ProviderError: Meta refused it or could not be reached.
        """
        settings = msgspec.convert(connection.settings, WhatsAppSettings, strict=False)
        body = TemplateRequest(
            name=template.name, language=template.language, category=template.category, components=template.components
        )
        answer = await self._graph(settings, "POST", f"/{settings.business_account_id}/message_templates", body)
        found = msgspec.json.decode(answer.content, type=TemplateAnswer)
        return TemplateReview(
            vendor_template_id=found.id, status=TEMPLATE_EVENTS.get(found.status.upper(), "pending"), name=template.name
        )

    async def delete_template(self, connection: VendorConnection, name: str, vendor_template_id: str) -> None:
        """DELETE the template from the business account's message_templates: by name and hsm_id, so that only this
        language goes (by name alone Meta deletes every language of it). One Meta no longer has is gone already.

        Raises:
            ProviderError: Meta refused it or could not be reached.
        """
        settings = msgspec.convert(connection.settings, WhatsAppSettings, strict=False)
        query = urlencode({"name": name, "hsm_id": vendor_template_id})
        path = f"/{settings.business_account_id}/message_templates?{query}"
        with contextlib.suppress(GoneError):
            await self._graph(settings, "DELETE", path, None)

    async def review(self, connection: VendorConnection, vendor_template_id: str) -> TemplateReview:
        """Ask Meta for the template's status (webhooks tell it too, without asking)."""
        settings = msgspec.convert(connection.settings, WhatsAppSettings, strict=False)
        answer = await self._graph(settings, "GET", f"/{vendor_template_id}", None)
        found = msgspec.json.decode(answer.content, type=TemplateAnswer)
        return TemplateReview(
            vendor_template_id=found.id,
            status=TEMPLATE_EVENTS.get(found.status.upper(), "pending"),
            reason=found.rejected_reason or "",
        )

    async def _graph(self, settings: WhatsAppSettings, method: str, path: str, body: object) -> httpx.Response:
        """One Graph API call outside sending (rare: a client of its own); a 2xx answer with a readable body."""
        url = f"{settings.api_url.rstrip('/')}/{settings.api_version}{path}"
        headers = {"authorization": f"Bearer {settings.access_token}", "content-type": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=settings.request_timeout) as client:
                content = _ENCODE.encode(body) if body is not None else None
                answer = await client.request(method, url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderError(f"WhatsApp cannot be reached ({exc.__class__.__name__})") from exc
        if answer.status_code == 404:
            raise GoneError("WhatsApp does not have it")
        if not 200 <= answer.status_code < 300:
            code = _error_code(answer)
            raise ProviderError(f"refused by WhatsApp (HTTP {answer.status_code}, error {code}: {reason(code)})")
        return answer

    def answer_handshake(self, connection: VendorConnection, request: WebhookRequest) -> str:
        """Meta's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` is the connection's."""
        token = str(connection.settings.get("verify_token") or "")
        given = request.query.get("hub.verify_token", "")
        if (
            request.query.get("hub.mode") != "subscribe"
            or not token
            or not hmac.compare_digest(given.encode(), token.encode())
        ):
            raise Unauthenticated("The verify token is missing or wrong")
        return request.query.get("hub.challenge", "")

    def parse_callback(self, connection: VendorConnection, request: WebhookRequest) -> ChannelCallback:
        """Verify X-Hub-Signature-256 over the raw body with the app secret, then read the statuses and inbound
        messages (texts and quick-reply taps) of every change."""
        secret = str(connection.settings.get("app_secret") or "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        # Bytes, not str: compare_digest refuses a str with non-ASCII characters, which a forged header may carry.
        if (
            not secret
            or not given
            or not hmac.compare_digest(given.lower().encode(), sign(secret, request.body).encode())
        ):
            raise Unauthenticated("The webhook's signature is missing or wrong")
        try:
            envelope = _BODY.decode(request.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise InvalidInput(f"Unexpected webhook: {exc}", field="body") from exc
        reports: list[DeliveryReport] = []
        inbound: list[InboundMessage] = []
        templates: list[TemplateReview] = []
        for entry in envelope.entry:
            for change in entry.changes:
                value = change.value
                if change.field == "message_template_status_update" and value.event.upper() in TEMPLATE_EVENTS:
                    templates.append(_review(change.value))
                if change.field != "messages":
                    continue
                reports += (_report(status, connection.id) for status in value.statuses)
                ours = value.metadata.display_phone_number if value.metadata else ""
                inbound += (_inbound(message, ours) for message in value.messages if _text(message))
        if any(len(r.vendor_message_id) > MAX_ID for r in reports) or any(
            len(m.source) > MAX_ADDRESS or len(m.destination) > MAX_ADDRESS or len(m.vendor_message_id) > MAX_ID
            for m in inbound
        ):
            raise InvalidInput("Unexpected webhook: an id or address is too long", field="body")
        return ChannelCallback(reports=tuple(reports), inbound=tuple(inbound), templates=tuple(templates))


def _report(status: Status, connection_id: int) -> DeliveryReport:
    word = status.status.lower()
    try:
        done_at = datetime.fromtimestamp(int(status.timestamp), UTC) if status.timestamp else None
    except (ValueError, OverflowError, OSError):  # a timestamp no calendar has: the time of arrival counts
        done_at = None
    return DeliveryReport(
        vendor_message_id=status.id,
        state=STATUS_WORDS.get(word, "unknown"),
        vendor_status=word[:20],
        error_code=str(status.errors[0].code if status.errors else "")[:20],
        done_at=done_at,
        connection=connection_id,
    )


def _review(value: Value) -> TemplateReview:
    status = TEMPLATE_EVENTS[value.event.upper()]
    return TemplateReview(
        vendor_template_id=str(value.message_template_id)[:64],
        status=status,
        reason=(value.reason or "")[:200] if status == "rejected" else "",
        name=value.message_template_name[:512],
        language=value.message_template_language[:15],
    )


def _text(message: Inbound) -> str:
    """A text's body, or a quick-reply button's text (its payload when it has none)."""
    if message.type == "button" and message.button is not None:
        return message.button.text or message.button.payload
    return message.text.body if message.text is not None else ""


def _inbound(message: Inbound, ours: str) -> InboundMessage:
    return InboundMessage(
        channel="whatsapp",
        source=message.sender.removeprefix("+"),
        destination=ours.removeprefix("+"),
        text=_text(message),
        vendor_message_id=message.id,
        received_at=datetime.now(UTC),
    )
