"""Sentences of the audit log (X-5), one per action, said in the reader's language when the log is read.

Each action's sentence is a catalogue message with named placeholders: ``actor`` (who), ``object`` (the object's
name at the time) and the values the call site gave in ``params``. An entry with changed fields adds them, each
as "field from before to after"; an update that changed one field says it in one sentence ("Anna Smith changed
the credit limit of Skyline from 0.00 EUR to 500.00 EUR"). An action without a sentence here, and every entry
written before sentences were, shows its stored English summary.

To give a new action its sentence: add it to ``SENTENCES`` (a plural pair with ``ngettext`` when a ``count``
decides the form, or ``action/variant`` keys when the call site passes ``variant=``), name new fields in
``FIELDS``, run `make i18n` and translate the new entries.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.money import format_amount, format_money
from core.web.i18n import N_, translations
from core.web.templating import format_date, format_datetime

Message = str | tuple[str, str]


def ngettext(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for the catalogue (pybabel's ``ngettext`` keyword) without translating it."""
    return singular, plural


SENTENCES: dict[str, Message] = {
    # Accounts and API keys
    "account.signup": N_("%(actor)s signed up company %(object)s"),
    "user.create/admin": N_("%(actor)s created admin %(object)s of %(partner)s"),
    "user.create/operator": N_("%(actor)s created operator %(object)s of %(partner)s"),
    "api_key.create": N_("%(actor)s created API key %(object)s"),
    "api_key.callback": N_("%(actor)s set the callback URL of API key %(object)s"),
    "api_key.rotate_secret": N_("%(actor)s rotated the callback secret of API key %(object)s"),
    "api_key.refresh": N_("%(actor)s refreshed API key %(object)s"),
    "api_key.remove": N_("%(actor)s removed API key %(object)s"),
    # Partners, portals, money
    "partner.create/reseller": N_("%(actor)s created reseller %(object)s under %(parent)s"),
    "partner.create/end_user": N_("%(actor)s created end-user company %(object)s under %(parent)s"),
    "partner.update": N_("%(actor)s changed partner %(object)s"),
    "partner.block": N_("%(actor)s blocked %(object)s"),
    "partner.unblock": N_("%(actor)s unblocked %(object)s"),
    "portal.create": N_("%(actor)s created portal %(object)s (%(hosts)s)"),
    "portal.update": N_("%(actor)s changed portal %(object)s"),
    "balance.adjust/add": N_("%(actor)s added %(amount)s to the balance of %(object)s: %(reason)s"),
    "balance.adjust/deduct": N_("%(actor)s deducted %(amount)s from the balance of %(object)s: %(reason)s"),
    "short_domain.create": N_("%(actor)s added short domain %(object)s"),
    "short_domain.delete": N_("%(actor)s removed short domain %(object)s"),
    "short_domain.grant": N_("%(actor)s granted short domain %(domain)s to %(object)s"),
    "short_domain.revoke": N_("%(actor)s took short domain %(domain)s away from %(object)s"),
    # Requests
    "request.create": N_("%(actor)s requested %(object)s"),
    "request.confirm": N_("%(actor)s confirmed the request of %(partner)s: %(object)s"),
    "request.decline": N_("%(actor)s declined the request of %(partner)s: %(object)s (%(reason)s)"),
    "request.pass_up": N_("%(actor)s passed up the request of %(partner)s: %(object)s"),
    "request.cancel": N_("%(actor)s canceled the request: %(object)s"),
    # Rate plans
    "rate_plan.create": N_("%(actor)s created %(channel)s rate plan %(object)s"),
    "rate_plan.update": N_("%(actor)s changed rate plan %(object)s"),
    "rate_plan.rates_upload": ngettext(
        "%(actor)s loaded %(count)s rate into rate plan %(object)s",
        "%(actor)s loaded %(count)s rates into rate plan %(object)s",
    ),
    "rate_plan.rate.create": N_("%(actor)s set the rate for %(destination)s in %(object)s to %(price)s"),
    "rate_plan.rate.update": N_("%(actor)s changed the rate for %(destination)s in %(object)s"),
    "rate_plan.rate.delete": N_("%(actor)s removed the rate for %(destination)s from %(object)s"),
    "rate_plan.assign": N_("%(actor)s assigned %(channel)s rate plan %(plan)s to %(object)s"),
    "rate_plan.unassign": N_("%(actor)s took %(channel)s rate plan %(plan)s away from %(object)s"),
    # Packs
    "pack.create": N_("%(actor)s created %(channel)s pack %(object)s"),
    "pack.update": N_("%(actor)s changed pack %(object)s"),
    "pack.remove": N_("%(actor)s removed pack %(pack)s of %(object)s, refunding %(amount)s"),
    "pack.buy": ngettext(
        "%(actor)s bought pack %(object)s (%(count)s message) for %(price)s",
        "%(actor)s bought pack %(object)s (%(count)s messages) for %(price)s",
    ),
    # Numbering book and vendor connections
    "numbering.upload": N_(
        "%(actor)s loaded the numbering book: countries %(countries)s, networks %(networks)s, prefixes %(prefixes)s"
    ),
    "numbering.country.create": N_("%(actor)s added %(object)s to the numbering book"),
    "numbering.country.update": N_("%(actor)s changed %(object)s in the numbering book"),
    "numbering.country.delete": N_("%(actor)s removed %(object)s and its networks from the numbering book"),
    "numbering.network.create": N_("%(actor)s added network %(object)s to %(country)s"),
    "numbering.network.update": N_("%(actor)s changed network %(object)s"),
    "numbering.network.delete": N_("%(actor)s removed network %(object)s"),
    "vendor_connection.create": N_("%(actor)s added %(channel)s vendor connection %(object)s"),
    "vendor_connection.update": N_("%(actor)s changed vendor connection %(object)s"),
    "vendor_connection.delete": N_("%(actor)s removed vendor connection %(object)s"),
    # Sender IDs
    "sender.create": N_("%(actor)s added %(channel)s sender ID %(object)s for %(partner)s"),
    "sender.update": N_("%(actor)s changed sender ID %(object)s"),
    "sender.delete": N_("%(actor)s removed sender ID %(object)s"),
    "sender.unsubscribe": N_("%(actor)s unsubscribed from %(channel)s sender ID %(object)s"),
    # Templates
    "template.create": N_("%(actor)s created template %(object)s"),
    "template.update": N_("%(actor)s changed template %(object)s"),
    "template.delete": N_("%(actor)s deleted template %(object)s"),
    "reply.create": N_("%(actor)s created reply template %(object)s"),
    "reply.update": N_("%(actor)s changed reply template %(object)s"),
    "reply.delete": N_("%(actor)s deleted reply template %(object)s"),
    "vendor_template.create": N_("%(actor)s submitted template %(object)s (%(language)s) for approval"),
    "vendor_template.delete": N_("%(actor)s deleted WhatsApp template %(object)s (%(language)s)"),
    # Campaigns
    "campaign.create": N_("%(actor)s created campaign %(object)s"),
    "campaign.start": N_("%(actor)s started campaign %(object)s"),
    "campaign.pause": N_("%(actor)s paused campaign %(object)s"),
    "campaign.resume": N_("%(actor)s resumed campaign %(object)s"),
    "campaign.cancel": N_("%(actor)s canceled campaign %(object)s"),
    "campaign.delete": N_("%(actor)s deleted campaign %(object)s"),
    "campaign.rerate": N_("%(actor)s rerated campaign %(object)s after a rate change: %(changes)s"),
    "campaign.provider_balance": N_(
        "Campaign %(object)s of %(client)s paused: the balance and credit limit of %(level)s do not cover %(amount)s"
    ),
    # Contacts
    "contact.create": N_("%(actor)s created contact %(object)s"),
    "contact.update": N_("%(actor)s changed contact %(object)s"),
    "contact.delete": ngettext("%(actor)s deleted %(count)s contact", "%(actor)s deleted %(count)s contacts"),
    "contact.import": N_(
        "%(actor)s imported %(object)s: %(added)s added, %(updated)s updated, %(skipped)s skipped, %(invalid)s invalid"
    ),
    "contact.group_add": ngettext(
        "%(actor)s added %(count)s contact to group %(object)s",
        "%(actor)s added %(count)s contacts to group %(object)s",
    ),
    "contact.group_move": ngettext(
        "%(actor)s moved %(count)s contact to group %(object)s",
        "%(actor)s moved %(count)s contacts to group %(object)s",
    ),
    "contact.group_remove": ngettext(
        "%(actor)s removed %(count)s contact from group %(object)s",
        "%(actor)s removed %(count)s contacts from group %(object)s",
    ),
    "stoplist.block": ngettext(
        "%(actor)s added %(count)s contact to the stop list", "%(actor)s added %(count)s contacts to the stop list"
    ),
    "stoplist.unblock": ngettext(
        "%(actor)s removed %(count)s contact from the stop list",
        "%(actor)s removed %(count)s contacts from the stop list",
    ),
    "group.create": N_("%(actor)s created group %(object)s"),
    "group.update": N_("%(actor)s changed group %(object)s"),
    "group.delete": N_("%(actor)s deleted group %(object)s"),
    "field.create": N_("%(actor)s created contact field %(object)s"),
    "field.update": N_("%(actor)s changed contact field %(object)s"),
    "field.delete": N_("%(actor)s deleted contact field %(object)s"),
    # Incoming messages (MO) routing
    "mo_route.default": N_("%(actor)s set the default MO URL"),
    "mo_route.create": N_("%(actor)s sent incoming messages to %(object)s to %(url)s"),
    "mo_route.update": N_("%(actor)s changed where incoming messages to %(object)s go"),
    "mo_route.delete": N_("%(actor)s sent incoming messages to %(object)s to the default URL again"),
    "mo_route.rotate_secret": N_("%(actor)s rotated the MO callback secret"),
}

# Names of changed fields as a sentence says them ("the credit limit of Skyline").
FIELDS: dict[str, str] = {
    "name": N_("name"),
    "credit_limit": N_("credit limit"),
    "blocked": N_("blocked"),
    "portal": N_("portal"),
    "status": N_("status"),
    "enabled": N_("enabled"),
    "callback_url": N_("callback URL"),
    "click_callbacks": N_("click callbacks"),
    "default_url": N_("default MO URL"),
    "url": N_("URL"),
    "price": N_("price"),
    "valid_from": N_("valid from"),
    "valid_to": N_("valid to"),
    "valid_until": N_("valid until"),
    "mode": N_("mode"),
    "text": N_("text"),
    "flash": N_("flash"),
    "sender_id": N_("sender ID"),
    "keywords": N_("keywords"),
    "priority": N_("priority"),
    "action": N_("action"),
    "description": N_("description"),
    "required": N_("required"),
    "phone": N_("phone"),
    "first_name": N_("first name"),
    "last_name": N_("last name"),
    "birth_date": N_("birth date"),
    "gender": N_("gender"),
    "comments": N_("comments"),
    "blocked_all": N_("blocked for all senders"),
    "mcc": N_("MCC"),
    "mnc": N_("MNC"),
    "dial_code": N_("dial code"),
    "prefixes": N_("prefixes"),
    # A partner's options, one by one
    "mo_enabled": N_("incoming messages"),
    "auto_replies": N_("auto-replies"),
    "flash_sms": N_("flash SMS"),
    "premoderate_campaigns": N_("premoderation of campaigns"),
    "premoderate_templates": N_("premoderation of templates"),
    "shortener_domains": N_("short domains"),
    "channels": N_("channels"),
    # A portal's settings
    "brand_name": N_("brand name"),
    "hosts": N_("host names"),
    "theme": N_("theme"),
    "languages": N_("languages"),
    "default_language": N_("default language"),
    "self_registration": N_("self-registration"),
    "require_2fa": N_("required two-factor authentication"),
    "terms_url": N_("terms of service URL"),
    "privacy_url": N_("privacy policy URL"),
    "consent_text": N_("consent text"),
    "help_email": N_("help e-mail"),
    "registration_fields": N_("registration fields"),
}

ONE_CHANGE = N_("%(actor)s changed the %(field)s of %(object)s from %(before)s to %(after)s")
CHANGE = N_("%(field)s from %(before)s to %(after)s")
YES, NO, NONE = N_("yes"), N_("no"), N_("none")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _details(row: dict[str, Any]) -> dict[str, Any]:
    details = row.get("details") or {}
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            return {}
    return details if isinstance(details, dict) else {}


def _only_who_and_what(message: Message) -> bool:
    """The message names no more than the actor and the object, so the one-change sentence loses nothing."""
    return isinstance(message, str) and set(PLACEHOLDER.findall(message)) <= {"actor", "object"}


def shown(value: Any, language: str, viewer: Any = None) -> str:
    """A stored value as the reader sees it: money with its currency, yes/no, dates in the reader's format."""
    gettext = translations(language).gettext
    if value is None or value == "" or value == []:
        return gettext(NONE)
    if isinstance(value, bool):
        return gettext(YES if value else NO)
    if isinstance(value, list):
        return ", ".join(shown(item, language, viewer) for item in value)
    if isinstance(value, dict):
        kind = value.get("$")
        if kind == "money":
            return format_money(int(value["micros"]), str(value["currency"]))
        if kind == "amount":
            return format_amount(Decimal(str(value["value"])), str(value["currency"]))
        if kind == "label":
            return gettext(str(value["value"]))
        if kind == "datetime":
            return format_datetime(datetime.fromisoformat(value["value"]), viewer)
        if kind == "date":
            return format_date(date.fromisoformat(value["value"]), viewer)
        return ", ".join(f"{key}: {shown(item, language, viewer)}" for key, item in value.items())
    return str(value)


def sentence(row: dict[str, Any], language: str, viewer: Any = None) -> str:
    """The audit row ``row`` as a sentence in ``language``; its stored summary when it has no sentence."""
    details = _details(row)
    variant = str(details.get("variant") or "")
    action = str(row.get("action") or "")
    message = SENTENCES.get(f"{action}/{variant}" if variant else action)
    if message is None or "actor_name" not in details:
        return str(row.get("summary") or "")
    catalogue = translations(language)
    params: dict[str, Any] = details.get("params") or {}
    values = {key: shown(value, language, viewer) for key, value in params.items()}
    values["actor"] = details["actor_name"] or row.get("user_email") or ""
    values["object"] = details.get("object_name") or (f"#{row['object_id']}" if row.get("object_id") else "")
    changed: list[dict[str, Any]] = details.get("changes") or []

    def field_name(change: dict[str, Any]) -> str:
        field = str(change.get("field", ""))
        return catalogue.gettext(FIELDS[field]) if field in FIELDS else field.replace("_", " ")

    def said(change: dict[str, Any]) -> dict[str, str]:
        return {
            "field": field_name(change),
            "before": shown(change.get("before"), language, viewer),
            "after": shown(change.get("after"), language, viewer),
        }

    try:
        if len(changed) == 1 and action.endswith(".update") and _only_who_and_what(message):
            return catalogue.gettext(ONE_CHANGE) % {**values, **said(changed[0])}
        if isinstance(message, tuple):
            count = int(params.get("count", 0))
            text = catalogue.ngettext(message[0], message[1], count) % {**values, "count": count}
        else:
            text = catalogue.gettext(message) % values
        if changed:
            text += ": " + "; ".join(catalogue.gettext(CHANGE) % said(change) for change in changed)
    except (KeyError, ValueError, TypeError):  # a value the message names is missing: say what was stored
        return str(row.get("summary") or "")
    return text
