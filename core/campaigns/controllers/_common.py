"""Wizard state between steps (kept in the form's own fields, see _wizard.py) and its conversion to a campaign."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from core.campaigns.schemas import CampaignCreate, NumbersCheck
from core.campaigns.services import check_numbers, split_numbers
from core.contacts.importing import build_preview, detect_kind, open_sheet, read_upload
from core.errors import InvalidInput
from core.web.forms import convert
from core.web.i18n import N_

STEPS = (1, 2, 3)
RICH_KEYS = ("image_url", "button_caption", "button_url")  # Viber's image and button
# Which step shows the field a service error names, so the error appears beside what the user typed.
ZONES = sorted(available_timezones())  # the time zones a schedule offers
FIELD_STEP = {
    "name": 1,
    "channel": 1,
    "sender_id": 1,
    "text": 1,
    "flash": 1,
    "image_url": 1,
    "button_caption": 1,
    "button_url": 1,
    "short_url": 1,
    "short_domain": 1,
    "template_id": 1,
    "template_name": 1,
    "vendor_template_id": 1,
    "header_param": 1,
    "button_params": 1,
    "group_ids": 2,
    "all_contacts": 2,
    "numbers": 2,
    "country_code": 2,
    "recipients": 2,
    "file": 2,
    "send_at": 3,
    "send_date": 3,
    "send_time": 3,
    "timezone": 3,
    "notify_emails": 3,
    "validity_hours": 3,
    "window_from": 3,
    "window_until": 3,
    "max_per_second": 3,
    "fallback_ttl": 3,
    "cascade": 3,
}
CASCADE_KEYS = ("cascade_to", "cascade_minutes")  # a cascade's later steps (CMP-7), one value a step, in order
TEXT_KEYS = (
    "name",
    "channel",
    "sender_id",
    "text",
    "image_url",
    "button_caption",
    "button_url",
    "short_url",
    "short_domain",
    "template_id",
    "template_name",
    "vendor_template_id",
    "template_params",
    "header_param",
    "button_params",
    "mode",
    "country_code",
    "numbers_text",
    "file_name",
    "file_numbers",
    "file_counts",
    "send_mode",
    "send_date",
    "send_time",
    "timezone",
    "notify_emails",
    "window_from",
    "window_until",
    "max_per_second",
    "fallback_minutes",
    *(f"step_{key}" for key in ("vendor_template_id", "template_params", "header_param", "button_params")),
)
# A cascade's WhatsApp step (at most one: each channel once) keeps its template's fields under these names, so the
# first step's own WhatsApp fields, when it is WhatsApp too, stay apart.
STEP_TEMPLATE_KEYS = {
    key: f"step_{key}" for key in ("vendor_template_id", "template_params", "header_param", "button_params")
}


def wizard_values(form: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    """Every wizard field from a posted form (the current step's inputs plus the others' hidden copies)."""
    values = dict(defaults)
    if form is None:
        return values
    for key in TEXT_KEYS:
        if key in form:
            values[key] = str(form.get(key) or "")
    if "param" in form:  # a vendor template's parameters, one input each; Meta allows no line break in one
        values["template_params"] = "\n".join(" ".join(str(p).split()) for p in form.getall("param"))
    if "button_param" in form:  # one input a link button taking a value, in the buttons' order
        values["button_params"] = "\n".join(" ".join(str(p).split()) for p in form.getall("button_param"))
    if "step_param" in form:
        values["step_template_params"] = "\n".join(" ".join(str(p).split()) for p in form.getall("step_param"))
    if "step_button_param" in form:
        values["step_button_params"] = "\n".join(" ".join(str(p).split()) for p in form.getall("step_button_param"))
    if "step" in form:
        values["flash"] = bool(form.get("flash"))
        values["group_ids"] = [g for g in form.getall("group_ids", []) if g]
        # Each later step posts its "channel:sender id" and its minutes; a step left empty is no step.
        targets = [str(t) for t in form.getall("cascade_to", [])]
        minutes = [str(m) for m in form.getall("cascade_minutes", [])]
        minutes += ["60"] * (len(targets) - len(minutes))
        kept = [(t, m) for t, m in zip(targets, minutes, strict=False) if t]
        values["cascade_to"], values["cascade_minutes"] = [t for t, _ in kept], [m for _, m in kept]
    return values


def step_of(field: str | None) -> int | None:
    """The wizard step showing the field a service error names (a cascade's ``cascade.<n>.<field>`` on the last)."""
    return FIELD_STEP.get((field or "").split(".")[0])


def _int(text: str, field: str, message: str) -> int:
    if not str(text).strip().isdigit():
        raise InvalidInput(message, field=field)
    return int(text)


def recipients_of(values: dict[str, Any]) -> dict[str, Any]:
    mode = values.get("mode") or "groups"
    if mode == "numbers":
        return {
            "numbers": split_numbers(values.get("numbers_text", "")),
            "country_code": values.get("country_code", ""),
        }
    if mode == "file":
        return {"numbers": [n for n in values.get("file_numbers", "").split() if n]}
    groups = values.get("group_ids", [])
    return {
        "all_contacts": "all" in groups,
        "group_ids": [_int(g, "group_ids", "Choose contact groups") for g in groups if g != "all"],
    }


def send_at_of(values: dict[str, Any]) -> datetime | None:
    if values.get("send_mode") != "later":
        return None
    day, clock = values.get("send_date", ""), values.get("send_time", "")
    if not day:
        raise InvalidInput("Choose the date to send on", field="send_at")
    try:
        return datetime.fromisoformat(f"{day}T{clock or '00:00'}")
    except ValueError:
        raise InvalidInput("Not a date and time", field="send_at") from None


def campaign_data(
    values: dict[str, Any],
    *,
    upto: int = 3,
    rich: bool = False,
    template_text: str | None = None,
    step_template: tuple[str, str] | None = None,
) -> CampaignCreate:
    """The campaign the wizard describes; ``upto`` leaves out later steps (placeholders that pass validation).

    ``rich``: the channel shows images and buttons; otherwise what was typed for them (on another channel, kept
    in the form for when the user switches back) is left out. ``template_text``: the channel sends vendor
    templates (WhatsApp), and this is the text the chosen one makes with its parameters; the text typed for
    other channels stays in the form, unused. ``step_template``: the cascade's step on such a channel, as (its
    channel, the text its chosen template makes).
    """
    vendor_template = str(values.get("vendor_template_id", ""))
    if template_text is not None and not vendor_template.isdigit():
        raise InvalidInput("Choose one of your approved templates", field="vendor_template_id")
    data: dict[str, Any] = {
        "name": values.get("name", ""),
        "channel": values.get("channel") or "sms",
        "sender_id": _int(values.get("sender_id", ""), "sender_id", "Choose a sender ID"),
        "text": values.get("text", "") if template_text is None else template_text,
        "flash": bool(values.get("flash")),
        **({key: values.get(key, "") for key in RICH_KEYS} if rich else {}),
        "template_id": int(values["template_id"]) if str(values.get("template_id", "")).isdigit() else None,
        "vendor_template_id": int(vendor_template) if template_text is not None else None,
        **(
            {
                "header_param": values.get("header_param", ""),
                "button_params": str(values.get("button_params", "")).split("\n"),
            }
            if template_text is not None
            else {}
        ),
        "short_url": values.get("short_url", "").strip(),
        "short_domain": values.get("short_domain", "").strip() if values.get("short_url", "").strip() else "",
    }
    data |= recipients_of(values) if upto >= 2 else {"all_contacts": True}
    if upto >= 3:
        data["send_at"] = send_at_of(values)
        data["timezone"] = values.get("timezone") or "UTC"
        data["notify_emails"] = emails_of(values.get("notify_emails", ""))
        data["window_from"] = values.get("window_from", "").strip()
        data["window_until"] = values.get("window_until", "").strip()
        rate = values.get("max_per_second", "").strip()
        limit = N_("Messages per second: a whole number of at least 1")
        data["max_per_second"] = _int(rate, "max_per_second", limit) if rate else None
        data |= cascade_of(values, step_template)
    return convert(data, CampaignCreate)


def emails_of(text: str) -> list[str]:
    """The status e-mail addresses typed in one field, separated by commas or semicolons."""
    return [a for a in text.replace(";", ",").split(",") if a.strip()]


def cascade_of(values: dict[str, Any], step_template: tuple[str, str] | None = None) -> dict[str, Any]:
    """The wizard's cascade (CMP-7): the later steps, each "channel:sender id" with the minutes it has to deliver
    before the next (none on the last), after the first channel's own minutes; nothing without a later step. The
    service checks the steps; the wizard only turns minutes into the seconds it counts in. The step on
    ``step_template``'s channel (WhatsApp) takes its template, the text it makes and its header and link values."""
    targets, minutes = values.get("cascade_to") or [], values.get("cascade_minutes") or []
    if not targets:
        return {}
    steps = []
    for n, target in enumerate(targets):
        channel, _, sender = str(target).partition(":")
        last = n == len(targets) - 1
        steps.append(
            {
                "channel": channel,
                "sender_id": _int(sender, f"cascade.{n}.sender_id", "Choose a sender ID"),
                "fallback_ttl": None if last else _seconds(minutes[n] if n < len(minutes) else "", f"cascade.{n}"),
                **(
                    _step_template(values, step_template[1], n) if step_template and step_template[0] == channel else {}
                ),
            }
        )
    return {"fallback_ttl": _seconds(values.get("fallback_minutes") or "", None), "cascade": steps}


def _step_template(values: dict[str, Any], text: str, n: int) -> dict[str, Any]:
    chosen = str(values.get("step_vendor_template_id", ""))
    if not chosen.isdigit():
        raise InvalidInput(N_("Choose one of your approved templates"), field=f"cascade.{n}.vendor_template_id")
    return {
        "vendor_template_id": int(chosen),
        "text": text,
        "header_param": values.get("step_header_param", ""),
        "button_params": str(values.get("step_button_params", "")).split("\n"),
    }


def _seconds(minutes: str, step: str | None) -> int:
    """A step's TTL typed in minutes, in seconds; the error names the step's field (``fallback_ttl`` on the first)."""
    field = f"{step}.fallback_ttl" if step else "fallback_ttl"
    return _int(str(minutes).strip(), field, N_("Minutes before the next channel: a whole number of at least 1")) * 60


async def read_numbers_file(upload: Any) -> tuple[str, NumbersCheck]:
    """The phone column of an uploaded CSV/XLS/XLSX, read with the contacts importer's reader, then checked."""
    name, data = await read_upload(upload)

    def read() -> NumbersCheck:
        kind = detect_kind(data, name)
        preview = build_preview(data, kind, [])
        column = next((c for c, target in preview.suggested.items() if target == "phone"), None)
        if column is None:
            raise InvalidInput("No column of phone numbers was found in the file", field="file")
        rows = open_sheet(data, kind).rows
        phones = []
        for index, row in enumerate(rows):
            if index == 0 and preview.has_header:
                continue
            if column < len(row) and row[column].strip():
                phones.append(row[column])
        return check_numbers(phones)

    return name, await asyncio.to_thread(read)
