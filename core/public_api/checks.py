"""Checking a /api/send_sms request (API-2): its messages, or a 400 naming the missing or bad parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.errors import PortalError
from core.providers import ChannelProvider, Registry
from core.public_api.schemas import Flag, SendSmsIn

MAX_TEXT = 2000
MO_FLASH = "MO messages are not supported in FlashMessages!"
# A cascade's fallbackTtl (CMP-7 through the API): seconds each channel but the last has to deliver. The guide gives
# no default nor range; the range is the campaign cascade's, the default ten minutes.
DEFAULT_TTL = 600
MAX_TTL = 72 * 3600


class BadParameter(PortalError):
    """A parameter of the request is missing or wrong (400, naming it)."""


def _flag(value: Flag, name: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadParameter(f"{name} must be true or false, not {value!r}", field=name)


def _channels(value: str | list[str]) -> list[str]:
    names = value.split(",") if isinstance(value, str) else value
    return [n.strip().lower() for n in names if n.strip()]


def _ttl(value: int | str | None, where: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        ttl = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
    except ValueError:
        ttl = 0
    if not 1 <= ttl <= MAX_TTL:
        raise BadParameter(
            f"fallbackTtl must be a whole number of seconds from 1 to {MAX_TTL}{where}, not {value!r}",
            field="fallbackTtl",
        )
    return ttl


def _cascade(names: list[str], where: str, known: Registry[ChannelProvider] | None) -> None:
    """A list of several channels is a cascade: each known, once, SMS (when there) last, a template-only channel
    (WhatsApp) only first."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BadParameter(f"channels lists {repeated[0]} twice{where}: each channel is tried once", field="channels")
    if len(names) < 2 or known is None:
        return
    for position, name in enumerate(names):
        provider = known.get(name)
        if provider is None:
            raise BadParameter(f"channels: unknown channel {name!r}{where}", field="channels")
        if provider.capabilities.templates and position:
            # Its template (templateName) is chosen for the first attempt; the next channels send its filled text.
            raise BadParameter(
                f"channels: {provider.label} sends only approved templates: it can only be the first channel of a"
                f" cascade{where}",
                field="channels",
            )
    if "sms" in names[:-1]:
        raise BadParameter(f"channels: SMS must be the last channel of a cascade{where}", field="channels")


def _values(value: str | list[str] | None) -> list[str] | None:
    """A list as given, or a comma-separated string's values; None when not given."""
    if value is None or value == "":
        return None
    return [str(v) for v in value] if isinstance(value, list) else [v.strip() for v in value.split(",")]


def _template(item: SendSmsIn, channel: str, where: str, known: Registry[ChannelProvider] | None) -> Wanted | None:
    """The vendor template a message on a template-only channel (WhatsApp) sends; None on other channels."""
    provider = known.get(channel) if known is not None else None
    if provider is None or not provider.capabilities.templates:
        return None
    name = item.template_name.strip()
    if not name:
        raise BadParameter(
            f"templateName is required on {provider.label}{where}: the name of one of your approved templates",
            field="templateName",
        )
    return Wanted(
        name=name,
        language=item.template_language.strip(),
        params=_values(item.template_params),
        header_param=item.template_header_param,
        button_params=_values(item.template_button_params) or [],
    )


def _numbers(value: str | int | list[str | int]) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(n).strip() for n in items if str(n).strip()]


@dataclass
class Wanted:
    """The vendor template a message names (templateName…), before it is looked up."""

    name: str
    language: str
    params: list[str] | None  # None: the message's text is the body with its parameters filled in
    header_param: str
    button_params: list[str]


@dataclass
class Message:
    """One object of the request, checked."""

    channel: str
    sender: str
    text: str
    client_ref: str
    numbers: list[str]
    label: str
    flash: bool
    accept_mo: bool = False  # MO answers to it go to the API key's callback URL (guide 13.3.2)
    fallback: list[str] = field(default_factory=list)  # a cascade's further channels, in order (CMP-7)
    ttl: int = DEFAULT_TTL  # seconds each channel but the last has to deliver (fallbackTtl)
    template: Wanted | None = None  # the vendor template of a template-only channel (WhatsApp)
    content: dict[str, str] = field(default_factory=dict)  # what the channel reads besides the text (its template)


@dataclass
class Request:
    messages: list[Message]
    dry_run: bool
    accept_mo: bool


def check_request(
    items: Sequence[SendSmsIn], *, dry_run: bool = False, known: Registry[ChannelProvider] | None = None
) -> Request:
    """The request's messages, or a 400 naming the first missing or bad parameter (guide 13.3, API-2).

    ``known``: the registered channels, against which a cascade's list (several channels) is checked; a single
    unknown channel is answered per recipient instead ("The … channel is not available"), as it always was.
    """
    if not items:
        raise BadParameter("The request has no message: send a JSON object or an array of them", field="message")
    messages = []
    mo = False
    for position, item in enumerate(items):
        where = f" (message {position + 1})" if len(items) > 1 else ""
        channels = _channels(item.channels)
        if not channels:
            raise BadParameter(f"channels is required{where}: SMS, Viber or WhatsApp", field="channels")
        _cascade(channels, where, known)
        ttl = _ttl(item.fallback_ttl, where)  # checked even when ignored (one channel: the guide's "only used if…")
        sender = str(item.sender).strip()
        if not sender:
            raise BadParameter(f"from is required{where}: one of your sender IDs", field="from")
        numbers = _numbers(item.to)
        if not numbers:
            raise BadParameter(f"to is required{where}: the recipient's number", field="to")
        template = _template(item, channels[0], where, known)
        if template is None and not item.message.strip():
            raise BadParameter(f"message must not be empty{where}", field="message")
        if len(item.message) > MAX_TEXT:
            raise BadParameter(f"message is longer than {MAX_TEXT} characters{where}", field="message")
        if len(item.client_ref) > 64:
            raise BadParameter(f"clientRef is longer than 64 characters{where}", field="clientRef")
        if len(item.label) > 100:
            raise BadParameter(f"label is longer than 100 characters{where}", field="label")
        flash = _flag(item.is_flashed, "isFlashed")
        accept_mo = _flag(item.accept_mo, "acceptMO") or _flag(item.auto_reply, "autoReply")
        dry_run = _flag(item.dry_run, "dryRun") or dry_run
        if accept_mo and flash:
            raise BadParameter(MO_FLASH, field="acceptMO")
        if flash and len(channels) > 1:
            raise BadParameter(f"isFlashed is for SMS alone, not for a cascade of channels{where}", field="isFlashed")
        mo = mo or accept_mo
        messages.append(
            Message(
                channels[0],
                sender,
                item.message,
                item.client_ref,
                numbers,
                item.label.strip(),
                flash,
                accept_mo,
                fallback=channels[1:],
                ttl=ttl or DEFAULT_TTL,
                template=template,
            )
        )
    return Request(messages, dry_run, mo)
