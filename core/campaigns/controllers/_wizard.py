"""The campaign wizard (CMP-3…5): Setup → Recipients → Complete & Send.

State between steps lives in the form itself: every step posts all wizard fields, the other steps' as hidden
inputs, so nothing is stored on the server until the campaign is created (no session cleanup, back/forward and
several wizards in several tabs just work). An uploaded file is read once; its valid numbers travel on as a
hidden field (``file_numbers``) with the counts shown. Moving forward checks the steps before the target with
the same service rules the API uses; moving back is always allowed.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from core.actor import Actor
from core.campaigns import premoderation, services
from core.campaigns.controllers._common import (
    STEP_TEMPLATE_KEYS,
    ZONES,
    campaign_data,
    read_numbers_file,
    step_of,
    wizard_values,
)
from core.campaigns.schemas import CASCADE_STEPS_MAX, CampaignCreate, CampaignView, NumbersCheck
from core.contacts.groups import list_groups
from core.contacts.importing import UPLOAD_BODY_LIMIT
from core.contacts.schemas import ContactFilter
from core.contacts.services import list_contacts
from core.errors import InvalidInput, PortalError
from core.message_templates import services as template_services
from core.message_templates import vendor
from core.message_templates.controllers import variable_choices
from core.message_templates.rendering import estimate_text, traffic_type
from core.message_templates.schemas import TemplateCreate, TemplateFilter
from core.message_templates.vendor_schemas import VendorTemplateView
from core.numbering.tables import Country
from core.providers import template_param_numbers, template_params
from core.senders.services import enabled_senders
from core.tenancy.options import partner_options
from core.web.forms import convert
from core.web.shell import client_ip, page

# The emoji picker's choice (CMP-3): common ones for offers, greetings and reminders, one code point each.
EMOJI = tuple("😀😊😍🥳👍👋🙏🎉🎁🔥⭐✅❗⏰📅📦🚚🛒💳💰🎈☕🍕🎂💖🌟📣📱💌🔔🎄🌞")


def _typed_numbers(values: dict[str, Any]) -> NumbersCheck:
    """The numbers typed in the recipients step, normalised and checked."""
    return services.check_numbers(services.split_numbers(values["numbers_text"]), values.get("country_code", ""))


def _defaults(actor: Actor) -> dict[str, Any]:
    return {
        "name": services.default_name(actor),
        "channel": "sms",
        "sender_id": "",
        "text": "",
        "flash": False,
        "image_url": "",
        "button_caption": "",
        "button_url": "",
        "short_url": "",
        "short_domain": "",
        "template_id": "",
        "template_name": "",
        "vendor_template_id": "",
        "template_params": "",
        "header_param": "",
        "button_params": "",
        "mode": "groups",
        "group_ids": [],
        "country_code": "",
        "numbers_text": "",
        "file_name": "",
        "file_numbers": "",
        "file_counts": "",
        "send_mode": "now",
        "send_date": "",
        "send_time": "",
        "timezone": actor.timezone or "UTC",
        "notify_emails": actor.email,
        "cascade_to": [],
        "cascade_minutes": [],
        "fallback_minutes": "60",
        **dict.fromkeys(STEP_TEMPLATE_KEYS.values(), ""),
    }


def _may_cascade(first: Any) -> bool:
    """Whether a cascade can start on this channel: SMS is always last (the service refuses it; the wizard does not
    offer it)."""
    return first is not None and first.name != "sms"


async def _cascade_options(channels: list[Any], actor: Actor, first: Any) -> list[tuple[str, str, str]]:
    """What a cascade's later step may be (CMP-7): each enabled sender ID of every other channel, as
    ("channel:sender id", label, channel)."""
    if not _may_cascade(first):
        return []
    options = []
    for channel in channels:
        if channel.name != first.name:
            options += [
                (f"{channel.name}:{s.id}", f"{channel.label} · {s.name}", channel.name)
                for s in await enabled_senders(actor, channel.name)
            ]
    return options


class CascadeRow:
    """A later step of the cascade as the wizard shows it: its choice, its minutes, what its select offers (no
    channel of another step; SMS only on the last), which moves keep SMS last, and on a channel of vendor-approved
    templates (WhatsApp) its template choice."""

    __slots__ = ("down", "label", "minutes", "options", "up", "value", "vendor")

    def __init__(
        self, values: dict[str, Any], options: list[tuple[str, str, str]], n: int, vendor: VendorChoice | None = None
    ) -> None:
        self.vendor = vendor if vendor is not None and _channel(values["cascade_to"][n]) == vendor.channel else None
        targets = values["cascade_to"]
        self.value, self.minutes = targets[n], values["cascade_minutes"][n]
        others = {_channel(t) for m, t in enumerate(targets) if m != n}
        last = n == len(targets) - 1
        self.options = [(v, label) for v, label, c in options if c not in others and (c != "sms" or last)]
        if self.value not in {v for v, _ in self.options}:
            # What was posted or repeated, though no longer offered: shown, so the service's refusal is beside it.
            known = next((label for v, label, _ in options if v == self.value), self.value)
            self.options.insert(0, (self.value, known))
        self.label = next(label for v, label in self.options if v == self.value)
        self.up = n > 0 and _sms_last(_swapped(targets, n - 1, n))
        self.down = not last and _sms_last(_swapped(targets, n, n + 1))


def _channel(target: str) -> str:
    return str(target).partition(":")[0]


def _swapped(targets: list[str], a: int, b: int) -> list[str]:
    found = list(targets)
    found[a], found[b] = found[b], found[a]
    return found


def _sms_last(targets: list[str]) -> bool:
    return all(_channel(t) != "sms" for t in targets[:-1])


def _cascade_command(values: dict[str, Any], command: str, options: list[tuple[str, str, str]]) -> str:
    """Add, remove or move a later step (the wizard's buttons, with or without script), each keeping its minutes;
    a move that would put SMS before another step is not made. The id of what to focus after the page reloads."""
    targets, minutes = list(values["cascade_to"]), list(values["cascade_minutes"])
    action, _, index = command.partition(":")
    n = int(index) if index.isdigit() and int(index) < len(targets) else None
    focus = "cascade-add"
    if action == "cascade_add" and len(targets) < CASCADE_STEPS_MAX:
        used = {_channel(t) for t in targets}
        free = [(v, c) for v, _, c in options if c not in used]
        chosen = next((v for v, c in free if c != "sms"), None) or next((v for v, _ in free), None)
        if chosen is not None:
            at = len(targets)
            if targets and _channel(targets[-1]) == "sms" and _channel(chosen) != "sms":
                at -= 1  # before SMS, which stays last
            targets.insert(at, chosen)
            minutes.insert(at, "60")
            focus = f"cascade-{at}"
    elif action == "cascade_remove" and n is not None:
        del targets[n], minutes[n]
    elif action in ("cascade_up", "cascade_down") and n is not None:
        other = n - 1 if action == "cascade_up" else n + 1
        if 0 <= other < len(targets) and _sms_last(_swapped(targets, n, other)):
            targets, minutes = _swapped(targets, n, other), _swapped(minutes, n, other)
            focus = f"cascade-{other}"
    values["cascade_to"], values["cascade_minutes"] = targets, minutes
    return focus


def _repeated_cascade(old: CampaignView) -> dict[str, Any]:
    """Repeat (CMP-1) keeps the cascade: every later step with its sender ID, and each step's TTL in whole minutes
    (at least one; the last step has none, so it keeps the default should a step be added after it)."""
    if len(old.steps) < 2 or old.fallback_ttl is None:
        return {}
    return {
        "cascade_to": [f"{step.channel}:{step.sender_id}" for step in old.steps[1:]],
        "cascade_minutes": [_minutes(step.fallback_ttl) for step in old.steps[1:]],
        "fallback_minutes": _minutes(old.fallback_ttl),
    }


def _minutes(seconds: int | None) -> str:
    return str(max(round(seconds / 60), 1)) if seconds else "60"


def _step(text: Any, default: int = 1) -> int:
    return int(text) if str(text) in ("1", "2", "3") else default


async def _from_template(request: Request, actor: Actor, template_id: int) -> dict[str, Any]:
    """The Setup fields of a template: "create campaign" from its tile, or "use template" in the wizard."""
    template = await template_services.get_template(request.app.state.portal, actor, template_id)
    return {
        "channel": template.channel,
        "sender_id": str(template.sender_id or ""),
        "text": template.text,
        "flash": template.flash,
        "image_url": template.image_url,
        "button_caption": template.button_caption,
        "button_url": template.button_url,
        "template_id": str(template.id),
    }


def _template_data(values: dict[str, Any]) -> TemplateCreate:
    """ "Save as template": the Setup step's channel, sender, text, image and button under the name typed for the
    template."""
    sender = str(values.get("sender_id") or "")
    return convert(
        {
            "name": values.get("template_name", ""),
            "channel": values.get("channel") or "sms",
            "sender_id": int(sender) if sender.isdigit() else None,
            "text": values.get("text", ""),
            "flash": bool(values.get("flash")),
            "image_url": values.get("image_url", ""),
            "button_caption": values.get("button_caption", ""),
            "button_url": values.get("button_url", ""),
        },
        TemplateCreate,
    )


class VendorChoice:
    """A channel that sends vendor-approved templates (WhatsApp): the approved ones to choose from, the chosen
    one, its parameters as typed, and the text they make; the value of its text header's parameter, if it has
    one, and its link buttons, each with the value ending its address when it takes one."""

    __slots__ = ("buttons", "channel", "chosen", "header", "header_param", "links", "params", "templates", "text")

    def __init__(self, templates: list[VendorTemplateView], values: dict[str, Any], channel: str = "") -> None:
        self.channel = channel
        self.templates = templates
        chosen = str(values.get("vendor_template_id") or "")
        self.chosen = next((t for t in templates if str(t.id) == chosen), None)
        typed = str(values.get("template_params") or "").split("\n")
        self.params = [typed[n] if n < len(typed) else "" for n in range(self.chosen.params if self.chosen else 0)]
        self.text = vendor.filled(self.chosen.body, self.params) if self.chosen else ""
        header = self.chosen.header if self.chosen else None
        with_param = header is not None and header.kind == "text" and template_param_numbers(header.text)
        self.header = header.text if header is not None and with_param else ""
        self.header_param = str(values.get("header_param") or "") if self.header else ""
        self.buttons = self.chosen.buttons if self.chosen else []
        given = iter(str(values.get("button_params") or "").split("\n"))
        self.links = [(b, next(given, "")) for b in self.buttons if b.kind == "url" and template_param_numbers(b.url)]

    @property
    def header_shown(self) -> str:
        return vendor.filled(self.header, [self.header_param])

    def fixed(self) -> dict[str, str]:
        """The header's and link buttons' values as the form keeps them, those of another template left out."""
        return {"header_param": self.header_param, "button_params": "\n".join(value for _, value in self.links)}


async def _repeated_template(actor: Actor, old: CampaignView) -> dict[str, str]:
    """A repeated WhatsApp campaign's template, if still approved, with its parameters, header and button values."""
    if not old.template_name:
        return {}
    approved = await vendor.list_vendor_templates(actor, old.channel, "approved")
    same = next((t for t in approved if (t.name, t.language) == (old.template_name, old.template_language)), None)
    if same is None:
        return {}
    return {
        "vendor_template_id": str(same.id),
        "template_params": "\n".join(template_params(same.body, old.text) or []),
        "header_param": old.header_param,
        "button_params": "\n".join(old.button_params),
    }


async def _vendor_choice(portal: Any, actor: Actor, values: dict[str, Any]) -> VendorChoice | None:
    """None unless the chosen channel sends only templates its vendor approved."""
    channel = values.get("channel") or "sms"
    provider = portal.registries.channels.get(channel)
    if not (provider and provider.capabilities.templates):
        return None
    return VendorChoice(await vendor.list_vendor_templates(actor, channel, "approved"), values)


async def _step_choice(portal: Any, actor: Actor, values: dict[str, Any]) -> VendorChoice | None:
    """The template choice of the cascade's step on a channel that sends only vendor-approved templates (WhatsApp;
    each channel is in a cascade once), from the form's ``step_…`` fields; None without such a step."""
    if not _may_cascade(portal.registries.channels.get(values.get("channel") or "sms")):
        return None
    for target in values["cascade_to"]:
        provider = portal.registries.channels.get(_channel(target))
        if provider and provider.capabilities.templates:
            own = {key: values.get(step_key, "") for key, step_key in STEP_TEMPLATE_KEYS.items()}
            templates = await vendor.list_vendor_templates(actor, provider.name, "approved")
            return VendorChoice(templates, own, provider.name)
    return None


def _step_template(choice: VendorChoice | None) -> tuple[str, str] | None:
    return (choice.channel, choice.text) if choice else None


def _sendable(portal: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The values to send: the later steps left out when the first channel starts no cascade (the user chose SMS
    after adding steps; they stay in the form for when the user switches back)."""
    first = portal.registries.channels.get(values.get("channel") or "sms")
    return values if _may_cascade(first) else values | {"cascade_to": [], "cascade_minutes": []}


async def _channels(portal: Any, actor: Actor) -> list[Any]:
    """The channels the company may use (all of them unless its provider chose some)."""
    options = await partner_options(actor.partner_id)
    return [c for c in portal.registries.channels if not options.channels or c.name in options.channels]


def _rich(portal: Any, values: dict[str, Any]) -> bool:
    """Whether the chosen channel shows images and buttons (Viber)."""
    provider = portal.registries.channels.get(values.get("channel") or "sms")
    return bool(provider and (provider.capabilities.images or provider.capabilities.buttons))


class CampaignWizard(Controller):
    path = "/campaigns/new"
    include_in_schema = False

    @get("/")
    async def start(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        values = _defaults(actor)
        repeat = str(request.query_params.get("repeat") or "")
        if repeat.isdigit():
            old = await services.get_campaign(actor, int(repeat))
            values |= {
                "name": f"{old.name} (2)"[:200],
                "channel": old.channel,
                "sender_id": str(old.sender_id),
                "text": old.text,
                "flash": old.flash,
                "image_url": old.image_url,
                "button_caption": old.button_caption,
                "button_url": old.button_url,
                "short_url": old.short_url,
                "short_domain": old.short_domain,
                "group_ids": (["all"] if old.all_contacts else []) + [str(g) for g in old.group_ids],
                "timezone": old.timezone,
                "notify_emails": ", ".join(old.notify_emails),
                "window_from": old.window_from,
                "window_until": old.window_until,
                "max_per_second": str(old.max_per_second or ""),
                **_repeated_cascade(old),
                **await _repeated_template(actor, old),
            }
        template = str(request.query_params.get("template") or "")
        if template.isdigit():
            values |= await _from_template(request, actor, int(template))
        return await self._render(request, actor, values, 1)

    @post("/", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def submit(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        form = await request.form()
        values = wizard_values(form, _defaults(actor))
        current = _step(form.get("step"))
        target = _step(form.get("goto"), current)
        command = str(form.get("command") or "")
        portal = request.app.state.portal
        rich = _rich(portal, values)
        choice = await _vendor_choice(portal, actor, values)
        template_text = choice.text if choice else None
        if choice:
            values |= choice.fixed()
        step_choice = await _step_choice(portal, actor, values)
        if step_choice:
            values |= {STEP_TEMPLATE_KEYS[key]: value for key, value in step_choice.fixed().items()}
        step_template = _step_template(step_choice)
        check: NumbersCheck | None = None
        try:
            if command == "channel":
                # Another channel was chosen: its form (senders, fields) replaces the other; what was typed stays.
                return await self._render(request, actor, values, 1)
            if current == 2 and values.get("mode") == "file":
                upload = form.get("file")
                if getattr(upload, "filename", ""):
                    values["file_name"], found = await read_numbers_file(upload)
                    values["file_numbers"] = "\n".join(found.valid)
                    values["file_counts"] = f"{len(found.valid)},{len(found.invalid)},{found.duplicates}"
                elif command == "check" or (target > current and not values["file_numbers"]):
                    raise InvalidInput("Choose a CSV, XLS or XLSX file", field="file")
            if command == "drop_invalid" and values.get("mode") == "numbers":
                # Go on with the valid numbers only (CMP-4), written with their "+" so the country code chosen
                # for numbers typed without one is not put in front of them again.
                kept = _typed_numbers(values)
                values["numbers_text"] = "\n".join(f"+{number}" for number in kept.valid)
                target = 3
            if command == "check" and values.get("mode") == "numbers":
                check = _typed_numbers(values)
                return await self._render(request, actor, values, 2, check=check)
            if command == "check":
                return await self._render(request, actor, values, 2)
            if command == "use_template":
                chosen = str(form.get("use_template_id") or "")
                if not chosen.isdigit():
                    raise InvalidInput("Choose a template", field="template_id")
                values |= await _from_template(request, actor, int(chosen))
                return await self._render(request, actor, values, 1)
            if command == "save_template":
                try:
                    saved = await template_services.create_template(
                        portal, actor, _template_data(values), ip=client_ip(request)
                    )
                except PortalError as exc:
                    # The template's own name has its own field in the wizard, apart from the campaign's name.
                    field = "template_name" if exc.field == "name" else exc.field
                    return await self._render(
                        request, actor, values, 1, error=exc.detail, field=field, status_code=exc.status_code
                    )
                values |= {"template_id": str(saved.id), "template_name": ""}
                return await self._render(request, actor, values, 1, saved_template=saved.name)
            if command.startswith("cascade_"):
                first = portal.registries.channels.get(values.get("channel") or "sms")
                options = await _cascade_options(await _channels(portal, actor), actor, first)
                focus = _cascade_command(values, command, options)
                return await self._render(request, actor, values, 3, cascade_focus=focus)
            if command == "send":
                data = campaign_data(
                    _sendable(portal, values), rich=rich, template_text=template_text, step_template=step_template
                )
                campaign = await services.create_campaign(portal, actor, data, ip=client_ip(request))
                return Redirect(f"/campaigns?done={'scheduled' if data.send_at else 'created'}&id={campaign.id}")
            if target > 1 and current <= target:
                # The rules of the steps before the target, exactly as the service checks them on create.
                data = campaign_data(values, upto=min(target - 1, 2), rich=rich, template_text=template_text)
                await services.check_campaign(portal, actor, data)
        except PortalError as exc:
            step = step_of(exc.field) or min(current, target)
            if exc.field == "numbers" and values.get("mode") == "numbers":
                # Every invalid number named and counted, with the offer to leave them out (CMP-4).
                check = _typed_numbers(values)
            return await self._render(
                request,
                actor,
                values,
                step,
                check=check,
                error=exc.detail,
                field=exc.field,
                status_code=exc.status_code,
            )
        return await self._render(request, actor, values, target, check=check)

    async def _render(
        self,
        request: Request,
        actor: Actor,
        values: dict[str, Any],
        step: int,
        *,
        check: NumbersCheck | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
        saved_template: str = "",
        cascade_focus: str = "",
    ) -> Response:
        portal = request.app.state.portal
        options = await partner_options(actor.partner_id)
        channels = await _channels(portal, actor)
        provider = portal.registries.channels.get(values.get("channel") or "sms")
        senders = await enabled_senders(actor, values.get("channel") or "sms")
        choice = await _vendor_choice(portal, actor, values)
        text = values.get("text", "")
        context: dict[str, Any] = {
            "values": values,
            "step": step,
            "error": error,
            "error_field": field,
            "channels": channels,
            "provider": provider,
            "may_flash": bool(provider and provider.capabilities.flash and options.flash_sms),
            "may_image": bool(provider and provider.capabilities.images),
            "may_button": bool(provider and provider.capabilities.buttons),
            "traffic_type": traffic_type(values),
            "senders": senders,
            "variables": await variable_choices(actor),
            "emoji": EMOJI,
            "premoderated": await premoderation.premoderated(actor),
            "segments": provider.segments(services.shortened(portal, estimate_text(text), values))
            if provider and text
            else 0,
            "check": check,
            "file_counts": [int(n) for n in values["file_counts"].split(",")] if values.get("file_counts") else None,
            "zones": ZONES,
            "saved_template": saved_template,
            "vendor": choice,
        }
        if step == 1:
            context["templates"] = (
                await template_services.list_templates(
                    portal,
                    actor,
                    TemplateFilter(channel=values.get("channel") or "sms", status="approved", per_page=500),
                )
            ).items
        if step == 2:
            context["groups"] = (await list_groups(actor, per_page=500)).items
            context["all_count"] = (await list_contacts(actor, ContactFilter(per_page=1))).total
            context["countries"] = await Country.select(Country.iso, Country.name, Country.dial_code).order_by(
                Country.name
            )
        if step == 3:
            cascade_options = await _cascade_options(channels, actor, provider)
            context["cascade_options"] = cascade_options
            step_choice = await _step_choice(portal, actor, values)
            context["cascade_rows"] = (
                [CascadeRow(values, cascade_options, n, step_choice) for n in range(len(values["cascade_to"]))]
                if cascade_options
                else []
            )
            used = {_channel(t) for t in values["cascade_to"]}
            context["cascade_more"] = len(values["cascade_to"]) < CASCADE_STEPS_MAX and any(
                c not in used for _, _, c in cascade_options
            )
            context["cascade_focus"] = cascade_focus
        if step == 3 and not error:
            context.update(await self._preview(request, actor, values, choice))
        return await page(request, actor, "campaigns/wizard.html", context, status_code=status_code)

    async def _preview(
        self, request: Request, actor: Actor, values: dict[str, Any], choice: VendorChoice | None
    ) -> dict[str, Any]:
        """The cost preview and the UTC instant of a scheduled start, or the error that prevents them."""
        try:
            rich = _rich(request.app.state.portal, values)
            step_choice = await _step_choice(request.app.state.portal, actor, values)
            data: CampaignCreate = campaign_data(
                _sendable(request.app.state.portal, values),
                rich=rich,
                template_text=choice.text if choice else None,
                step_template=_step_template(step_choice),
            )
            preview = await services.cost_preview(request.app.state.portal, actor, data)
            return {"preview": preview, "utc": services.scheduled_instant(data)}
        except PortalError as exc:
            return {"error": exc.detail, "error_field": exc.field}
