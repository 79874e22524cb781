"""Campaign services: create, list, act (CMP-1), preview costs (CMP-5); UI, API and scheduler call these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.billing.pack_units import held_units
from core.billing.pricing import price_list
from core.billing.tables import LedgerEntry
from core.campaigns import from_file, premoderation
from core.campaigns.schemas import (
    CampaignCreate,
    CampaignFilter,
    CampaignView,
    CascadeStepView,
    CostLine,
    CostPreview,
    FileUpload,
    NumbersCheck,
    StepCost,
)
from core.campaigns.states import STATUS_LABELS, actions_for, refusal
from core.campaigns.tables import Campaign, CampaignNumber
from core.contacts.services import own_groups
from core.contacts.stoplist import blocked, group_phones
from core.contacts.tables import Contact
from core.db import icontains, is_sqlite, json_value, must_exist, write_transaction
from core.dispatch import quiet_hours
from core.dispatch.campaign_state import announce, change_status, charged_lines
from core.dispatch.tables import CampaignBatch, Edr
from core.errors import Conflict, InvalidInput, NotFound
from core.message_templates import vendor
from core.message_templates.rendering import (
    CONTACT_VARIABLES,
    check_rich,
    contact_values,
    estimate_text,
    render,
    traffic_type,
    variables_in,
    with_short_link,
)
from core.message_templates.schemas import TemplateUser
from core.message_templates.services import TEMPLATE_USERS, check_variables, template_exists, template_status
from core.message_templates.tables import VendorTemplate
from core.message_templates.vendor_schemas import TemplateButton, TemplateHeader
from core.money import from_micros
from core.numbering.normalise import InvalidNumber, normalise
from core.numbering.services import prefix_index
from core.numbering.zones import zone_of
from core.portal import Portal
from core.providers import active_shortener, template_param_numbers, template_params
from core.rawsql import RawSql
from core.senders.services import usable
from core.senders.tables import Sender
from core.tenancy import audit
from core.tenancy import requests as request_chain
from core.tenancy.options import partner_options
from core.tenancy.scope import owned, require_admin
from core.tenancy.tables import Partner
from core.web.forms import check_web_address
from core.web.i18n import N_, Message, ngettext, translations
from core.web.pagination import Page, paginate
from core.web.periods import user_zone

EMAIL_SHAPE = "@"
NO_VALID_ROW = N_("No row of the file has a valid destination number and a text")
NUMBER_CHUNK = 5_000


def check_numbers(raw: Iterable[str], country_code: str = "") -> NumbersCheck:
    """Normalise typed or uploaded numbers: the distinct valid ones, the invalid ones with reasons, duplicates."""
    code = country_code.strip().lstrip("+")
    valid: list[str] = []
    seen: set[str] = set()
    invalid: list[tuple[str, str]] = []
    duplicates = 0
    for item in raw:
        text = str(item).strip()
        if not text:
            continue
        digits = text
        if code and not text.startswith(("+", "00")) and not text.startswith(code):
            digits = code + text.lstrip("0")
        try:
            number = normalise(digits)
        except InvalidNumber as exc:
            invalid.append((text, str(exc)))
            continue
        if number in seen:
            duplicates += 1
            continue
        seen.add(number)
        valid.append(number)
    return NumbersCheck(valid=valid, invalid=invalid, duplicates=duplicates)


def split_numbers(text: str) -> list[str]:
    """Numbers typed one per line or separated by commas or semicolons."""
    return [part for line in text.splitlines() for part in line.replace(";", ",").split(",")]


AUTH_CODE_LENGTH = 15  # Meta's longest one-time code
# The status reason of a scheduled campaign whose template was deleted after the warning (TPL-5); stored in English,
# shown through the catalogue.
TEMPLATE_DELETED = N_("The template was deleted")
CONTENT_KEYS = ("image_url", "button_caption", "button_url", "short_url", "short_domain")


def content_of(data: CampaignCreate) -> dict[str, str]:
    """The channel's extra fields a campaign stores (only those given)."""
    return {key: value.strip() for key in CONTENT_KEYS if (value := getattr(data, key).strip())}


class TemplateChoice(Protocol):
    """The vendor template a message sends and its values: a campaign's CampaignCreate, or an /api/send_sms
    message's (``core.public_api``), checked by the same rules."""

    @property
    def channel(self) -> str: ...
    @property
    def vendor_template_id(self) -> int | None: ...
    @property
    def text(self) -> str: ...
    @property
    def header_param(self) -> str: ...
    @property
    def button_params(self) -> list[str]: ...


async def vendor_content(provider: Any, actor: Actor, data: TemplateChoice) -> dict[str, str]:
    """On a channel that sends only vendor-approved templates (WhatsApp): the company's approved template the
    campaign sends, as the content the channel reads, once the text is checked to be its body with every
    parameter filled in (a contact variable in a parameter fills it per recipient)."""
    if not provider.capabilities.templates:
        for field, given in (
            ("vendor_template_id", data.vendor_template_id is not None),
            ("header_param", data.header_param),
            ("button_params", data.button_params),
        ):
            if given:
                raise InvalidInput(
                    Message(N_("Vendor templates are not used on %(channel)s"), {"channel": provider.label}),
                    field=field,
                )
        return {}
    row = None
    if data.vendor_template_id is not None:
        row = (
            await VendorTemplate.select()
            .where(
                (VendorTemplate.id == data.vendor_template_id)
                & owned(VendorTemplate, actor)
                & (VendorTemplate.channel == data.channel)
                & (VendorTemplate.status == "approved")
            )
            .first()
        )
    if row is None:
        raise InvalidInput(f"Choose one of your approved {provider.label} templates", field="vendor_template_id")
    params = template_params(row["body"], data.text)
    if params is None or not all(p.strip() for p in params):
        raise InvalidInput("Fill in every parameter of the template, keeping the rest of its text", field="text")
    content = {"template_name": row["name"], "template_language": row["language"], "template_body": row["body"]}
    if row["category"] == "authentication":
        if len(params[0]) > AUTH_CODE_LENGTH:
            raise InvalidInput(
                ngettext(
                    "A code of at most %(count)s character", "A code of at most %(count)s characters", AUTH_CODE_LENGTH
                ),
                field="text",
            )
        # Meta asks for the code twice: as the body's parameter and as the copy-code button's.
        content["template_code_button"] = "copy_code"
    header = msgspec.json.decode(row["header"], type=TemplateHeader) if row["header"] else None
    buttons = msgspec.json.decode(row["buttons"], type=list[TemplateButton])
    content |= _fixed_params(header, buttons, data)
    if header is not None and header.url:
        # A media header's link goes with each message, as Meta asks.
        content |= {"template_media": header.kind, "template_media_url": header.url}
    return content


HEADER_PARAM = "template_header_param"
BUTTON_PARAM = "template_button_"  # + the button's index in the template, as Meta numbers them from 0


def _fixed_params(header: TemplateHeader | None, buttons: list[TemplateButton], data: TemplateChoice) -> dict[str, str]:
    """The content keys of a template's text header parameter and its link buttons' URL suffixes: values the same
    for every recipient, since a message's own values have nowhere to be kept yet; each refusal names its field."""
    content: dict[str, str] = {}
    value = data.header_param.strip()
    if header is not None and header.kind == "text" and template_param_numbers(header.text):
        if not value:
            raise InvalidInput(N_("Fill in the value of the template's header"), field="header_param")
        _no_variables(
            value,
            "header_param",
            N_("A header's value is the same for every recipient: variables are not available there"),
        )
        content[HEADER_PARAM] = value
    elif value:
        raise InvalidInput(N_("This template's header takes no value"), field="header_param")
    linked = [n for n, button in enumerate(buttons) if button.kind == "url" and template_param_numbers(button.url)]
    for n, given in enumerate(data.button_params):
        if n >= len(linked) and given.strip():
            raise InvalidInput(
                N_("This template has no further link button taking a value"), field=f"button_params.{n}"
            )
    for n, index in enumerate(linked):
        value = data.button_params[n].strip() if n < len(data.button_params) else ""
        if not value:
            raise InvalidInput(N_("Fill in the end of the link button's address"), field=f"button_params.{n}")
        _no_variables(
            value,
            f"button_params.{n}",
            N_("A link button's value is the same for every recipient: variables are not available there"),
        )
        content[f"{BUTTON_PARAM}{index}"] = value
    return content


def _no_variables(value: str, field: str, refusal: str) -> None:
    if variables_in(value):
        raise InvalidInput(refusal, field=field)


def fixed_params(content: dict[str, str]) -> tuple[str, list[str]]:
    """A campaign's header value and its link buttons' values (in the buttons' order), as stored in its content."""
    indexes = sorted(int(key.removeprefix(BUTTON_PARAM)) for key in content if key.startswith(BUTTON_PARAM))
    return content.get(HEADER_PARAM, ""), [content[f"{BUTTON_PARAM}{n}"] for n in indexes]


def _check_short_link(portal: Portal, actor: Actor, data: CampaignCreate) -> None:
    """URL-1: one link of the text, on one of the company's short domains, with a shortener installed."""
    url, domain = data.short_url.strip(), data.short_domain.strip().lower()
    if not url and not domain:
        return
    if not url:
        raise InvalidInput("Give the link of the message to shorten", field="short_url")
    if domain not in actor.short_domains or active_shortener(portal.registries.shorteners) is None:
        raise InvalidInput("Choose one of your company's short domains", field="short_domain")
    check_web_address(url, "short_url")
    if url not in data.text:
        raise InvalidInput("The link to shorten must appear in the message text", field="short_url")


def shortened(portal: Portal, text: str, fields: Any) -> str:
    """``text`` with the link chosen for shortening replaced by a short link of the real length (for counting).

    ``fields``: a mapping or Struct with ``short_url`` and ``short_domain``.
    """
    get = fields.get if isinstance(fields, dict) else lambda key, default="": getattr(fields, key, default)
    url, domain = str(get("short_url", "")).strip(), str(get("short_domain", "")).strip().lower()
    shortener = active_shortener(portal.registries.shorteners)
    if not (url and domain and shortener):
        return text
    return with_short_link(text, url, shortener.preview(domain))


def estimated_text(portal: Portal, data: CampaignCreate) -> str:
    """The text as recipients get it for counting segments: variables as ten characters, the short link as is."""
    return shortened(portal, estimate_text(data.text), data)


def _view(row: dict[str, Any], steps: list[dict[str, Any]] | None = None) -> CampaignView:
    """A campaign as shown; a cascade's first step with ``steps``, its later ones (CMP-7), whose counters and cost
    add up: messages sent, delivered and charged on every step, and as undelivered or failed those the last step
    did not reach."""
    content = json_value(row.get("content")) or {}
    header_param, button_params = fixed_params(content)
    status, reason = row["status"], row["status_reason"]
    totals = {key: row[key] for key in ("sent", "delivered", "undelivered", "failed", "cost", "reserved")}
    if steps:
        for step in steps:
            for key in ("sent", "delivered", "cost", "reserved"):
                totals[key] += step[key]
        totals["undelivered"], totals["failed"] = steps[-1]["undelivered"], steps[-1]["failed"]
        stalled = next((step for step in steps if step["status"] == "paused"), None)
        if status == "in_progress" and stalled is not None:
            status, reason = "paused", stalled["status_reason"]  # a later step ran out of money, say
    return CampaignView(
        id=row["id"],
        name=row["name"],
        channel=row["channel"],
        sender_id=row["sender_id"],
        sender=row["sender_name"],
        text=row["text"],
        flash=row["flash"],
        image_url=content.get("image_url", ""),
        button_caption=content.get("button_caption", ""),
        button_url=content.get("button_url", ""),
        short_url=content.get("short_url", ""),
        short_domain=content.get("short_domain", ""),
        traffic_type=traffic_type(content),
        template_id=row["template_id"],
        group_ids=json_value(row["group_ids"]) or [],
        all_contacts=row["all_contacts"],
        status=status,
        status_label=STATUS_LABELS.get(status, status),
        status_reason=reason,
        scheduled_at=row["scheduled_at"],
        timezone=row["timezone"],
        notify_emails=json_value(row["notify_emails"]) or [],
        validity_hours=row["validity_hours"],
        window_from="" if row["window_from"] is None else quiet_hours.clock(row["window_from"]),
        window_until="" if row["window_until"] is None else quiet_hours.clock(row["window_until"]),
        max_per_second=row["rate_limit"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        total=row["total"],
        stop_listed=row["stop_listed"],
        sent=totals["sent"],
        delivered=totals["delivered"],
        undelivered=totals["undelivered"],
        failed=totals["failed"],
        cost=from_micros(totals["cost"]),
        reserved=from_micros(totals["reserved"]),
        currency=row["currency"],
        actions=actions_for(status),
        fallback_ttl=row["fallback_ttl"],
        template_name=content.get("template_name", ""),
        template_language=content.get("template_language", ""),
        header_param=header_param,
        button_params=button_params,
        steps=[_step_view(r) for r in [row, *steps]] if steps else [],
    )


def _step_view(row: dict[str, Any]) -> CascadeStepView:
    return CascadeStepView(
        channel=row["channel"],
        sender_id=row["sender_id"],
        sender=row["sender_name"],
        fallback_ttl=row["fallback_ttl"],
        status=row["status"],
        total=row["total"],
        sent=row["sent"],
        delivered=row["delivered"],
        undelivered=row["undelivered"],
        failed=row["failed"],
        cost=from_micros(row["cost"]),
    )


async def _steps_of(root_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The later steps of the cascades among ``root_ids``, in order, by their first step's id."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if root_ids:
        for r in await Campaign.select().where(Campaign.root_id.is_in(root_ids)).order_by(Campaign.id):
            found[r["root_id"]].append(r)
    return found


async def _own(actor: Actor, campaign_id: int) -> dict[str, Any]:
    """One of the actor's campaigns; a cascade's later step is not one (it is reached through the first)."""
    row = (
        await Campaign.select()
        .where((Campaign.id == campaign_id) & owned(Campaign, actor) & Campaign.parent_id.is_null())
        .first()
    )
    if row is None:
        raise NotFound("Campaign")
    return row


async def get_campaign(actor: Actor, campaign_id: int) -> CampaignView:
    row = await _own(actor, campaign_id)
    return _view(row, (await _steps_of([row["id"]])).get(row["id"]))


async def list_campaigns(actor: Actor, f: CampaignFilter) -> Page[CampaignView]:
    where: Combinable = owned(Campaign, actor) & Campaign.parent_id.is_null()
    if f.query:
        where &= icontains(Campaign.name, f.query)
    if f.status:
        where &= Campaign.status == f.status
    if f.channel:
        where &= Campaign.channel == f.channel
    if f.created_from:
        where &= Campaign.created_at >= f.created_from
    if f.created_to:
        where &= Campaign.created_at < f.created_to
    found = await paginate(
        Campaign.select().order_by(Campaign.id, ascending=False), where, page=f.page, per_page=f.per_page
    )
    steps = await _steps_of([r["id"] for r in found.items if r["fallback_ttl"] is not None])
    return found.with_items([_view(r, steps.get(r["id"])) for r in found.items])


async def check_campaign(portal: Portal, actor: Actor, data: CampaignCreate) -> tuple[dict[str, Any], NumbersCheck]:
    """Every rule of the wizard; the sender row and the numbers. Raises InvalidInput naming the field."""
    provider = portal.registries.channels.get(data.channel)
    if provider is None:
        raise InvalidInput(f"Unknown channel {data.channel!r}", field="channel")
    sender = await _enabled_sender(actor, data.sender_id, data.channel)
    if sender is None:
        raise InvalidInput("Choose one of your enabled sender IDs for this channel", field="sender_id")
    upload = await _campaign_file(portal, actor, data, provider)
    if not data.text.strip() and upload is None:
        raise InvalidInput("The message text is empty", field="text")
    if data.template_id is not None:
        status = await template_status(actor.partner_id, data.template_id)
        if status is None:
            raise InvalidInput("The template no longer exists; choose another or none", field="template_id")
        if status != "approved":
            raise InvalidInput(N_("The template is not approved by your provider yet"), field="template_id")
    await check_variables(actor, data.text, [c.variable for c in upload.columns] if upload else [])
    options = await partner_options(actor.partner_id)
    if options.channels and data.channel not in options.channels:
        raise InvalidInput(f"Your company may not send on {provider.label}; ask your provider", field="channel")
    check_rich(provider, data.image_url, data.button_caption, data.button_url)
    await vendor_content(provider, actor, data)
    _check_short_link(portal, actor, data)
    await cascade_steps(portal, actor, data)
    if data.flash and not provider.capabilities.flash:
        raise InvalidInput(N_("The chosen channel cannot send flash messages"), field="flash")
    if data.flash and not options.flash_sms:
        raise InvalidInput("Your company may not send flash messages; ask your provider", field="flash")
    if data.group_ids and len(await own_groups(actor, data.group_ids)) != len(set(data.group_ids)):
        raise InvalidInput("One of the chosen groups does not exist", field="group_ids")
    numbers = check_numbers(data.numbers, data.country_code)
    if numbers.invalid:
        raw, reason = numbers.invalid[0]
        more = f" and {len(numbers.invalid) - 1} more" if len(numbers.invalid) > 1 else ""
        raise InvalidInput(f"Invalid number {raw!r}: {reason}{more}", field="numbers")
    if not (data.group_ids or data.all_contacts or numbers.valid or upload):
        raise InvalidInput("Choose contact groups or enter at least one number", field="recipients")
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown time zone {data.timezone!r}", field="timezone") from exc
    if data.send_at is not None:
        when = data.send_at if data.send_at.tzinfo else data.send_at.replace(tzinfo=ZoneInfo(data.timezone))
        if when <= datetime.now(UTC):
            raise InvalidInput("The scheduled time is in the past", field="send_at")
    send_window(data)
    for address in data.notify_emails:
        if EMAIL_SHAPE not in address or len(address) > 254 or " " in address.strip():
            raise InvalidInput(f"Not an e-mail address: {address!r}", field="notify_emails")
    return sender, numbers


class CascadeStep(NamedTuple):
    """A cascade's later step as checked: its channel, its sender row, and on a channel of vendor-approved templates
    (WhatsApp) its own text (the template's body filled in) and content; other steps send the campaign's text."""

    provider: Any
    sender: dict[str, Any]
    text: str | None = None
    content: dict[str, str] | None = None


async def cascade_steps(portal: Portal, actor: Actor, data: CampaignCreate) -> list[CascadeStep]:
    """A cascade's further steps (CMP-7), checked. Every channel once, SMS only last; every step but the last has a
    TTL; a WhatsApp step names its approved template with its parameters, as a WhatsApp campaign does.

    Raises:
        InvalidInput: naming ``fallback_ttl`` or ``cascade.<n>.<field>``.
    """
    if not data.cascade:
        if data.fallback_ttl is not None:
            raise InvalidInput(N_("A TTL is for a cascade: add the channel to try next"), field="fallback_ttl")
        return []
    if data.fallback_ttl is None:
        raise InvalidInput(
            N_("Give the first channel's TTL: how long it has to deliver before the next one is tried"),
            field="fallback_ttl",
        )
    options = await partner_options(actor.partner_id)
    used = [data.channel]
    steps = []
    for n, step in enumerate(data.cascade):
        field = f"cascade.{n}"
        provider = portal.registries.channels.get(step.channel)
        if provider is None:
            raise InvalidInput(f"Unknown channel {step.channel!r}", field=f"{field}.channel")
        if step.channel in used:
            raise InvalidInput(f"{provider.label} is already a step of the cascade", field=f"{field}.channel")
        if "sms" in used:
            raise InvalidInput(N_("SMS must be the last channel of a cascade"), field=f"{field}.channel")
        if options.channels and step.channel not in options.channels:
            raise InvalidInput(
                f"Your company may not send on {provider.label}; ask your provider", field=f"{field}.channel"
            )
        sender = await _enabled_sender(actor, step.sender_id, step.channel)
        if sender is None:
            raise InvalidInput(
                f"Choose one of your enabled sender IDs for {provider.label}", field=f"{field}.sender_id"
            )
        if n < len(data.cascade) - 1 and step.fallback_ttl is None:
            raise InvalidInput(
                f"Give {provider.label}'s TTL: how long it has to deliver before the next one",
                field=f"{field}.fallback_ttl",
            )
        used.append(step.channel)
        steps.append(await _step_template(provider, actor, data, n, sender))
    return steps


async def _step_template(
    provider: Any, actor: Actor, data: CampaignCreate, n: int, sender: dict[str, Any]
) -> CascadeStep:
    """A later step with, on a template channel, its template checked by the rules of a campaign on that channel
    (``vendor_content``), each refusal naming the step's own field."""
    step = data.cascade[n]
    if not provider.capabilities.templates:
        if step.text:
            raise InvalidInput(N_("Only a WhatsApp step has a text of its own"), field=f"cascade.{n}.text")
        # The step sends the campaign's text: what vendor_content refuses off template channels is refused here.
        alone = msgspec.structs.replace(
            data,
            vendor_template_id=step.vendor_template_id,
            header_param=step.header_param,
            button_params=step.button_params,
        )
    else:
        if data.file:
            # A file row's own variables are not kept past the first step, so a template step could not fill them.
            raise InvalidInput(N_("A campaign from a file cannot have a WhatsApp step"), field=f"cascade.{n}.channel")
        alone = msgspec.structs.replace(
            data,
            channel=step.channel,
            text=step.text,
            vendor_template_id=step.vendor_template_id,
            header_param=step.header_param,
            button_params=step.button_params,
        )
    try:
        content = await vendor_content(provider, actor, alone)
        if provider.capabilities.templates:
            await check_variables(actor, step.text)
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, field=f"cascade.{n}.{exc.field}") from None
    if not provider.capabilities.templates:
        return CascadeStep(provider, sender)
    return CascadeStep(provider, sender, step.text, content)


async def _enabled_sender(actor: Actor, sender_id: int, channel: str) -> dict[str, Any] | None:
    """One of the actor's enabled sender IDs of ``channel``, or None."""
    return (
        await Sender.select()
        .where((Sender.id == sender_id) & owned(Sender, actor) & (Sender.channel == channel) & usable())
        .first()
    )


def _step_content(content: dict[str, str], provider: Any) -> dict[str, str]:
    """What of the first step's content a later step shows: the image and button where its channel can; the short
    link it inherits already made, in the text handed over."""
    keep = {"image_url"} if provider.capabilities.images else set()
    keep |= {"button_caption", "button_url"} if provider.capabilities.buttons else set()
    return {key: value for key, value in content.items() if key in keep}


async def _campaign_file(portal: Portal, actor: Actor, data: CampaignCreate, provider: Any) -> FileUpload | None:
    """Campaign from file (CMP-6): the uploaded file of the actor's company with its columns' roles checked."""
    if not data.file:
        return None
    if provider.capabilities.templates:
        raise InvalidInput(f"A campaign from a file cannot be sent on {provider.label}", field="channel")
    if data.group_ids or data.all_contacts or data.numbers:
        raise InvalidInput(N_("A campaign from a file sends to the file's rows only"), field="file")
    upload = await from_file.describe(actor, data.file, portal.settings.var_dir)
    from_file.roles(data, upload)
    return upload


def send_window(data: CampaignCreate) -> tuple[int, int] | None:
    """The quiet hours' window in minutes after midnight, or None (any time). Raises InvalidInput naming the field."""
    if not (data.window_from or data.window_until):
        return None
    ends = []
    for field in ("window_from", "window_until"):
        text = getattr(data, field)
        if not text:
            raise InvalidInput(N_("Give both ends of the send window, or neither"), field=field)
        try:
            ends.append(quiet_hours.parse_clock(text))
        except ValueError:
            raise InvalidInput(N_("Not a time of day (HH:MM, 00:00 to 23:59)"), field=field) from None
    if ends[0] == ends[1]:
        raise InvalidInput(N_("The send window must not start and end at the same time"), field="window_until")
    return ends[0], ends[1]


def default_name(actor: Actor) -> str:
    """ "Campaign <date time>" in the user's language and time zone (CMP-3)."""
    when = f"{datetime.now(user_zone(actor.timezone)):%Y-%m-%d %H:%M}"
    return translations(actor.language).gettext(N_("Campaign %(time)s")) % {"time": when}


def scheduled_instant(data: CampaignCreate) -> datetime | None:
    """The UTC instant of a scheduled start: a naive time is read in the campaign's time zone."""
    if data.send_at is None:
        return None
    when = data.send_at if data.send_at.tzinfo else data.send_at.replace(tzinfo=ZoneInfo(data.timezone))
    return when.astimezone(UTC)


async def create_campaign(portal: Portal, actor: Actor, data: CampaignCreate, *, ip: str = "") -> CampaignView:
    """Store a campaign with its numbers; it starts now or waits for its scheduled time."""
    sender, numbers = await check_campaign(portal, actor, data)
    provider = portal.registries.channels.get(data.channel)
    now = datetime.now(UTC)
    at = scheduled_instant(data)
    name = data.name.strip() or default_name(actor)
    waits = await premoderation.premoderated(actor)
    window = send_window(data)
    # The currency it will be charged in, shown before it starts; the start fixes it from the price list then.
    prices = await price_list(actor.partner_id, data.channel, at or now)
    partner = must_exist(await Partner.select(Partner.currency).where(Partner.id == actor.partner_id).first())
    steps = await cascade_steps(portal, actor, data)
    step_prices = [await price_list(actor.partner_id, provider.name, at or now) for provider, *_ in steps]
    async with write_transaction() as tx:
        rows = await Campaign.insert(
            Campaign(
                partner=actor.partner_id,
                created_by=actor.user_id,
                name=name,
                channel=data.channel,
                sender_id=sender["id"],
                sender_name=sender["name"],
                text=data.text,
                flash=data.flash,
                content=content_of(data) | await vendor_content(provider, actor, data),
                template_id=data.template_id,
                group_ids=sorted(set(data.group_ids)),
                all_contacts=data.all_contacts,
                # "Send now" is a schedule for now: should the start below fail, the scheduler retries it.
                status="waiting" if waits else "scheduled",
                status_reason=premoderation.WAITING_REASON if waits else "",
                scheduled_at=at or now,
                timezone=data.timezone,
                notify_emails=[a.strip() for a in data.notify_emails],
                validity_hours=data.validity_hours,
                window_from=window[0] if window else None,
                window_until=window[1] if window else None,
                rate_limit=data.max_per_second,
                currency=prices.currency if prices else partner["currency"],
                fallback_ttl=data.fallback_ttl,
                created_at=now,
            )
        ).returning(Campaign.id)
        campaign_id = rows[0]["id"]
        await _add_steps(actor, data, campaign_id, steps, step_prices, now)
        for start in range(0, len(numbers.valid), NUMBER_CHUNK):
            await CampaignNumber.insert(
                *[CampaignNumber(campaign=campaign_id, phone=p) for p in numbers.valid[start : start + NUMBER_CHUNK]]
            )
        from_rows = await _write_file_rows(portal, actor, data, campaign_id, tx) if data.file else 0
        await audit.record(
            actor,
            "campaign.create",
            f"Campaign {name}",
            object_type="campaign",
            object_id=campaign_id,
            ip=ip,
            name=name,
        )
        if waits:
            summary = {
                "name": name,
                "channel": data.channel,
                "sender": sender["name"],
                "text": data.text,
                "numbers": len(numbers.valid) + from_rows,
                "groups": len(set(data.group_ids)),
                "all_contacts": data.all_contacts,
                "scheduled_at": (at or now).isoformat(),
            }
            await premoderation.ask(actor, campaign_id, summary)
    if data.file:
        from_file.discard(actor, data.file, portal.settings.var_dir)
    if at is None and not waits:
        await start_campaign(portal, campaign_id, {"scheduled"}, announce_start=False)
    return await get_campaign(actor, campaign_id)


async def _add_steps(
    actor: Actor,
    data: CampaignCreate,
    root_id: int,
    steps: list[CascadeStep],
    prices: list[Any],
    now: datetime,
) -> None:
    """A cascade's later steps, each a campaign of its own after the one before (CMP-7). They wait as "step" until
    the first starts (core.dispatch.cascade then hands them their recipients); nobody sees them but through it."""
    root = must_exist(await Campaign.select().where(Campaign.id == root_id).first())
    previous = root_id
    for n, ((provider, sender, text, content), listed) in enumerate(zip(steps, prices, strict=True)):
        rows = await Campaign.insert(
            Campaign(
                partner=actor.partner_id,
                created_by=actor.user_id,
                name=root["name"],
                channel=provider.name,
                sender_id=sender["id"],
                sender_name=sender["name"],
                text=root["text"] if text is None else text,
                flash=data.flash and provider.capabilities.flash,
                content=_step_content(json_value(root["content"]) or {}, provider) if content is None else content,
                status="step",
                scheduled_at=root["scheduled_at"],
                timezone=root["timezone"],
                validity_hours=root["validity_hours"],
                window_from=root["window_from"],
                window_until=root["window_until"],
                rate_limit=root["rate_limit"],
                currency=listed.currency if listed else root["currency"],
                parent_id=previous,
                root_id=root_id,
                fallback_ttl=data.cascade[n].fallback_ttl if n < len(steps) - 1 else None,
                created_at=now,
            )
        ).returning(Campaign.id)
        previous = rows[0]["id"]


async def _write_file_rows(portal: Portal, actor: Actor, data: CampaignCreate, campaign_id: int, tx: Any) -> int:
    """The file's valid rows as the campaign's numbers, a chunk per statement, in the creating transaction (a
    failure leaves no half-written campaign); how many. Raises InvalidInput when no row is valid."""
    sql = RawSql(tx.connection, sqlite=is_sqlite())
    written = 0
    async for chunk in from_file.file_rows(actor, data, portal.settings.var_dir, from_file.RowCounts()):
        records = [
            (campaign_id, row.phone, row.text or None, msgspec.json.encode(row.values).decode() if row.values else None)
            for row in chunk
        ]
        await sql.bulk("campaign_number", ("campaign", "phone", "text", "fields"), records)
        written += len(records)
    if not written:
        raise InvalidInput(NO_VALID_ROW, field="file")
    return written


async def start_campaign(
    portal: Portal, campaign_id: int, from_statuses: set[str], *, announce_start: bool = True
) -> bool:
    """Fix the campaign's price list, open its ledger row and hand it to the engine (status In progress)."""
    from core.dispatch.queueing import enqueue_prepare

    row = await Campaign.select().where(Campaign.id == campaign_id).first()
    if row is None or row["status"] not in from_statuses:
        return False
    if row["template_id"] is not None and not await template_exists(row["partner"], row["template_id"]):
        # TPL-5: deleting the template was allowed after a warning; the campaign made from it does not start.
        await change_status(portal, campaign_id, from_statuses, "failed", TEMPLATE_DELETED, finished=True)
        return False
    content = json_value(row["content"]) or {}
    if content.get("template_name") and not await vendor.vendor_template_kept(
        row["partner"], row["channel"], content["template_name"], content.get("template_language", "")
    ):
        # The vendor template was deleted after a warning, as a campaign template may be (TPL-5).
        await change_status(portal, campaign_id, from_statuses, "failed", TEMPLATE_DELETED, finished=True)
        return False
    now = datetime.now(UTC)
    prices = await price_list(row["partner"], row["channel"], now)
    partner = must_exist(await Partner.select(Partner.currency).where(Partner.id == row["partner"]).first())
    async with write_transaction():
        ledger_id = row["ledger_entry_id"]
        if ledger_id is None:
            entry = LedgerEntry(
                partner=row["partner"],
                kind="campaign",
                amount=0,
                balance_after=must_exist(
                    await Partner.select(Partner.balance).where(Partner.id == row["partner"]).first()
                )["balance"],
                currency=partner["currency"],
                initiator_id=row["created_by"],
                initiator_email="",
                description=f"Campaign {row['name']}"[:500],
                details={"campaign_id": campaign_id},
                created_at=now,
            )
            await entry.save()
            ledger_id = entry.id
        changed = (
            await Campaign.update(
                {
                    Campaign.status: "in_progress",
                    Campaign.status_reason: "",
                    Campaign.started_at: row["started_at"] or now,
                    Campaign.billing_mode: prices.mode if prices else "submitted",
                    Campaign.currency: prices.currency if prices else partner["currency"],
                    Campaign.ledger_entry_id: ledger_id,
                }
            )
            .where((Campaign.id == campaign_id) & (Campaign.status == row["status"]))
            .returning(Campaign.id)
        )
    if not changed:
        return False
    if announce_start:
        await announce(portal, row, "in_progress", "")
    if row["parent_id"] is not None:
        return True  # a cascade's later step: the step before hands it its recipients (core.dispatch.cascade)
    for step in await Campaign.select(Campaign.id).where(Campaign.root_id == campaign_id).order_by(Campaign.id):
        await start_campaign(portal, step["id"], {"step"}, announce_start=False)
    await enqueue_prepare(portal, campaign_id)
    return True


async def act(portal: Portal, actor: Actor, campaign_id: int, action: str, *, ip: str = "") -> CampaignView | None:
    """Pause, resume, cancel, start now or delete (CMP-1); a disallowed action is a 409 with the reason."""
    from core.dispatch.queueing import enqueue_prepare, enqueue_senders

    row = await _own(actor, campaign_id)
    if action not in ("pause", "resume", "cancel", "start", "delete"):
        raise InvalidInput(f"Unknown action {action!r}", field="action")
    # A cascade is acted on as one: its steps follow the first (CMP-7).
    steps = (await _steps_of([campaign_id])).get(campaign_id, [])
    every = [campaign_id, *(step["id"] for step in steps)]
    reason = refusal(action, _view(row, steps).status)
    if reason:
        raise Conflict(reason, field="action")
    if action in ("cancel", "delete") and row["status"] == "waiting" and row["request_id"] is not None:
        # Withdrawn with its campaign: nobody above is left deciding on a campaign that no longer waits.
        await request_chain.withdraw(actor, row["request_id"], ip=ip)
    if action == "delete":
        require_admin(actor, "delete campaigns")
        async with write_transaction():
            await CampaignBatch.delete().where(CampaignBatch.campaign.is_in(every))
            await Campaign.delete().where(Campaign.id.is_in(every))
            await audit.record(
                actor,
                "campaign.delete",
                f"Campaign {row['name']}",
                object_type="campaign",
                object_id=campaign_id,
                ip=ip,
                name=row["name"],
            )
        return None
    if action == "start":
        await start_campaign(portal, campaign_id, {"scheduled"})
    elif action == "pause":
        for one in every:
            await change_status(portal, one, {"in_progress"}, "paused", "Paused by the user")
    elif action == "resume":
        for one in every:
            if await change_status(portal, one, {"paused"}, "in_progress"):
                fresh = must_exist(
                    await Campaign.select(Campaign.expanded, Campaign.parent_id).where(Campaign.id == one).first()
                )
                first_unexpanded = not fresh["expanded"] and fresh["parent_id"] is None
                await (enqueue_prepare(portal, one) if first_unexpanded else enqueue_senders(portal, one))
    elif action == "cancel":
        for one in every:
            await _cancel(portal, one)
    async with write_transaction():
        await audit.record(
            actor,
            f"campaign.{action}",
            f"Campaign {row['name']}",
            object_type="campaign",
            object_id=campaign_id,
            ip=ip,
            name=row["name"],
        )
    return await get_campaign(actor, campaign_id)


async def _cancel(portal: Portal, campaign_id: int) -> None:
    """Cancel: messages not yet sent are dropped (their EDRs removed, nothing was charged for them)."""
    async with write_transaction():
        ready = [
            r["id"]
            for r in await CampaignBatch.select(CampaignBatch.id).where(
                (CampaignBatch.campaign == campaign_id) & (CampaignBatch.state == "ready")
            )
        ]
        dropped = 0
        if ready:
            dropped = len(
                await Edr.delete()
                .where((Edr.campaign == campaign_id) & Edr.batch.is_in(ready) & (Edr.status == "PREPARED"))
                .returning(Edr.id)
            )
            await CampaignBatch.delete().where(CampaignBatch.id.is_in(ready))
        if dropped:
            await Campaign.update({Campaign.total: Campaign.total - dropped}).where(Campaign.id == campaign_id)
    await change_status(
        portal,
        campaign_id,
        {"paused", "scheduled", "waiting", "step"},
        "canceled",
        "Canceled by the user",
        finished=True,
    )


async def _scheduled_with_template(template_id: int) -> list[TemplateUser]:
    rows = await Campaign.select(Campaign.id, Campaign.name).where(
        (Campaign.template_id == template_id) & Campaign.status.is_in(["scheduled", "waiting"])
    )
    return [TemplateUser(kind="campaign", id=r["id"], name=r["name"]) for r in rows]


TEMPLATE_USERS.append(_scheduled_with_template)

NOT_STARTED = ("scheduled", "waiting", "step")  # not started yet: a template deleted by then makes them fail
STILL_SENDING = ("in_progress", "paused")


async def _sending_vendor_template(partner_id: int, channel: str, name: str, language: str) -> list[TemplateUser]:
    """The partner's campaigns, scheduled or sending, that send this vendor template (named in their content)."""
    rows = await Campaign.select(Campaign.id, Campaign.name, Campaign.status, Campaign.content).where(
        (Campaign.partner == partner_id)
        & (Campaign.channel == channel)
        & Campaign.status.is_in([*NOT_STARTED, *STILL_SENDING])
    )
    return [
        TemplateUser(kind="campaign", id=r["id"], name=r["name"], sending=r["status"] in STILL_SENDING)
        for r in rows
        if (content := json_value(r["content"]) or {}).get("template_name") == name
        and content.get("template_language") == language
    ]


vendor.VENDOR_TEMPLATE_USERS.append(_sending_vendor_template)


async def start_due(portal: Portal) -> int:
    """Start scheduled campaigns whose time has come (a cron job); how many started."""
    due = await Campaign.select(Campaign.id).where(
        (Campaign.status == "scheduled") & (Campaign.scheduled_at <= datetime.now(UTC)) & Campaign.parent_id.is_null()
    )
    return sum([await start_campaign(portal, r["id"], {"scheduled"}) for r in due])


async def cost_preview(portal: Portal, actor: Actor, data: CampaignCreate) -> CostPreview:
    """Recipients, stop-listed numbers and cost by country and network, before the campaign is confirmed."""
    sender, numbers = await check_campaign(portal, actor, data)
    provider = portal.registries.channels.get(data.channel)
    assert provider is not None, "check_campaign rejects an unknown channel"
    parts = max(provider.segments(estimated_text(portal, data)), 1)
    allowed: set[str] = set()
    stopped: set[str] = set()
    if data.all_contacts or data.group_ids:
        members, listed = await group_phones(
            actor.partner_id, sender["id"], None if data.all_contacts else data.group_ids
        )
        allowed.update(members)
        stopped.update(listed)
    counts = from_file.RowCounts()
    parts_of: dict[str, int] = {}
    if data.file:
        parts_of = await _file_parts(portal, actor, data, provider, counts)
    # A typed number of a group member was judged with its contact above; only the others are looked up.
    typed = (set(numbers.valid) | set(parts_of)) - allowed - stopped
    typed_stopped = await blocked(actor.partner_id, sender["id"], typed)
    allowed |= typed - typed_stopped
    stopped |= typed_stopped
    prices = await price_list(actor.partner_id, data.channel, datetime.now(UTC))
    index = await prefix_index()
    lines: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, None, 0])
    no_rate = 0
    if variables_in(data.text) and not data.file:
        parts_of = await _personal_parts(portal, actor.partner_id, provider, data, allowed)
    parts = max(parts_of.values(), default=parts)
    window = send_window(data)
    start = scheduled_instant(data) or datetime.now(UTC)
    waiting = 0
    # The packs pay first (BIL-4), as far as their units go now: an estimate, since other campaigns may use them.
    held = await held_units(actor.partner_id, data.channel, datetime.now(UTC))
    from_packs = 0
    priced: list[str] = []
    for phone in allowed:
        dest = index.resolve(phone)
        pack = held.take(dest.country_iso, dest.mcc + dest.mnc, parts_of.get(phone, parts)) if held and dest else None
        rate = prices.price(dest) if prices and dest else None
        if dest is None or (pack is None and rate is None):
            no_rate += 1
            continue
        priced.append(phone)
        if window and not quiet_hours.is_open(*window, zone_of(phone) or data.timezone, start):
            waiting += 1
        if pack is not None:
            from_packs += 1
            continue
        key = (dest.country, dest.network, dest.mcc + dest.mnc)
        lines[key][0] += 1
        lines[key][1] = rate
        lines[key][2] += parts_of.get(phone, parts)
    items = [
        CostLine(
            channel=data.channel,
            country=k[0],
            network=k[1],
            mccmnc=k[2],
            recipients=v[0],
            parts=v[2],
            rate=from_micros(v[1]),
            total=from_micros(v[1] * v[2]),
        )
        for k, v in sorted(lines.items())
    ]
    total = sum((line.total for line in items), start=from_micros(0))
    partner = must_exist(
        await Partner.select(Partner.currency, Partner.balance, Partner.credit_limit)
        .where(Partner.id == actor.partner_id)
        .first()
    )
    available = from_micros(partner["balance"] + partner["credit_limit"])
    steps = await _later_costs(portal, actor, data, priced)
    return CostPreview(
        recipients=len(allowed),
        stop_listed=len(stopped),
        parts_per_message=parts,
        lines=items,
        no_rate=no_rate,
        total=total,
        currency=prices.currency if prices else partner["currency"],
        billing_mode=prices.mode if prices else "",
        waiting=waiting,
        from_packs=from_packs,
        pack_units=sum(held.taken.values()),
        available=available,
        over_balance=total > available,
        invalid=counts.invalid,
        duplicates=counts.duplicates,
        invalid_rows=counts.invalid_rows,
        steps=steps,
        worst_case_total=sum((step.total for step in steps), start=total),
    )


async def _later_costs(portal: Portal, actor: Actor, data: CampaignCreate, phones: list[str]) -> list[StepCost]:
    """A cascade's later steps priced for the worst case (CMP-7): each takes every recipient the step before could
    be sent to, with its own channel's packs, rates and message parts (the stop list of its sender left aside)."""
    found = []
    index = await prefix_index()
    now = datetime.now(UTC)
    after = data.fallback_ttl
    for n, (provider, sender, text, _) in enumerate(await cascade_steps(portal, actor, data)):
        prices = await price_list(actor.partner_id, provider.name, now)
        held = await held_units(actor.partner_id, provider.name, now)
        sent = data if text is None else msgspec.structs.replace(data, text=text)  # a WhatsApp step's own text
        parts = max(provider.segments(estimated_text(portal, sent)), 1)
        parts_of: dict[str, int] = {}
        if data.file:
            parts_of = await _file_parts(portal, actor, data, provider, from_file.RowCounts())
        elif variables_in(sent.text):
            parts_of = await _personal_parts(portal, actor.partner_id, provider, sent, set(phones))
        reached, no_rate, from_packs, all_parts, total = [], 0, 0, 0, 0
        for phone in phones:
            dest, own = index.resolve(phone), parts_of.get(phone, parts)
            pack = held.take(dest.country_iso, dest.mcc + dest.mnc, own) if held and dest else None
            rate = prices.price(dest) if prices and dest else None
            if dest is None or (pack is None and rate is None):
                no_rate += 1
                continue
            reached.append(phone)
            from_packs += pack is not None
            all_parts += own
            total += 0 if pack is not None or rate is None else rate * own
        found.append(
            StepCost(
                channel=provider.name,
                sender=sender["name"],
                fallback_after=after,
                recipients=len(phones),
                parts=all_parts,
                no_rate=no_rate,
                from_packs=from_packs,
                total=from_micros(total),
                currency=prices.currency if prices else actor.currency,
            )
        )
        phones, after = reached, data.cascade[n].fallback_ttl
    return found


async def _file_parts(
    portal: Portal, actor: Actor, data: CampaignCreate, provider: Any, counts: from_file.RowCounts
) -> dict[str, int]:
    """Each valid row's parts, its own text (or the campaign's) filled with its variables (CMP-6)."""
    parts_of: dict[str, int] = {}
    async for chunk in from_file.file_rows(actor, data, portal.settings.var_dir, counts):
        for row in chunk:
            text = render(shortened(portal, row.text or data.text, data), {**row.values, "phone": row.phone})
            parts_of[row.phone] = max(provider.segments(text), 1)
    if not parts_of:
        raise InvalidInput(NO_VALID_ROW, field="file")
    return parts_of


async def _personal_parts(
    portal: Portal, partner_id: int, provider: Any, data: CampaignCreate, phones: set[str]
) -> dict[str, int]:
    """Each recipient's parts with the variables filled from its contact, as expansion will fill them: a Cyrillic
    name turns that message to UCS-2 and a long one may take another part (CMP-5)."""
    columns = [getattr(Contact, name) for name in CONTACT_VARIABLES]
    rows = await Contact.select(*columns, Contact.custom).where(Contact.partner == partner_id)
    contacts = {r["phone"]: r for r in rows if r["phone"] in phones}
    text = shortened(portal, data.text, data)
    return {
        phone: max(provider.segments(render(text, contact_values(contacts.get(phone), phone))), 1) for phone in phones
    }


async def step_ids(root_id: int) -> list[int]:
    """The ids of a cascade's later steps, in order (none for a campaign of one channel)."""
    rows = await Campaign.select(Campaign.id).where(Campaign.root_id == root_id).order_by(Campaign.id)
    return [r["id"] for r in rows]


async def cost_details(actor: Actor, campaign_id: int) -> list[CostLine]:
    """The campaign's ledger details (BIL-7): quantity, rate and total by country, network and MCCMNC; a cascade's
    steps one after the other, each line naming its channel.

    What was charged: accepted messages By Submitted; delivered ones By Delivered (the rest was released).
    """
    await _own(actor, campaign_id)
    steps = (
        await Campaign.select(Campaign.id, Campaign.billing_mode, Campaign.channel)
        .where((Campaign.id == campaign_id) | (Campaign.root_id == campaign_id))
        .order_by(Campaign.id)
    )
    rows = [(step["channel"], line) for step in steps for line in await charged_lines(step["id"], step["billing_mode"])]
    return [
        CostLine(
            channel=channel,
            country=r["country"],
            network=r["network"],
            mccmnc=r["mccmnc"],
            recipients=r["n"],
            parts=r["parts"],
            rate=from_micros(r["rate"]) if r["rate"] is not None else None,
            total=from_micros(r["total"]),
            from_pack=bool(r["from_pack"]),
        )
        for channel, r in rows
    ]
