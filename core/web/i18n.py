"""Languages of the UI (X-1): which one a request gets, and its gettext catalogue."""

from __future__ import annotations

import gettext
import re
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

if TYPE_CHECKING:
    from litestar import Request

    from core.actor import Actor
    from core.tenancy.resolver import PortalContext

LANGUAGES = ("en", "es", "ru", "tr")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "ru": "Русский", "tr": "Türkçe"}
LANGUAGE_COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it; it is translated where it is shown."""
    return message


class Message(str):
    """A catalogue message with values for its ``%(name)s`` placeholders: ``Message(N_("... %(name)s"), {...})``
    where an error is raised.

    It reads as its English text (an API's ``detail``, a log line), and the ``translate`` filter shows it in the
    reader's language: the catalogue holds the message with its placeholders, never one sentence per value.
    Values that are Messages themselves (a list's "and 3 more") are translated with it.
    """

    msgid: str
    plural: str
    number: int  # the count that chooses the plural form (``count`` is str's method)
    values: dict[str, Any]

    def __new__(cls, msgid: str, values: dict[str, Any], plural: str = "", number: int = 1) -> Message:
        english = (plural if plural and number != 1 else msgid) % values
        self = super().__new__(cls, english)
        self.msgid, self.plural, self.number, self.values = msgid, plural, number, values
        return self

    def translated(self, catalogue: gettext.NullTranslations) -> str:
        text = (
            catalogue.ngettext(self.msgid, self.plural, self.number) if self.plural else catalogue.gettext(self.msgid)
        )
        return text % {k: v.translated(catalogue) if isinstance(v, Message) else v for k, v in self.values.items()}


def ngettext(singular: str, plural: str, count: int, **values: Any) -> Message:
    """A Message whose wording follows ``count`` (pybabel extracts the pair under this name); ``count`` is also
    the ``%(count)s`` value."""
    return Message(singular, values | {"count": count}, plural, count)


# Fixed messages raised in modules this package does not own, listed here so that extraction finds them. Each
# must stay a verbatim copy of its source (tests/core/web/test_i18n.py checks); templates pass `error` and
# `detail` values through the `translate` filter, so a page shows these in the reader's language. "X not found"
# is NotFound("X").
SERVICE_MESSAGES = (
    N_("Wrong e-mail or password"),
    N_("Enter your e-mail and password"),
    N_("Sign in first"),
    N_("Theme must be light or dark"),
    N_("A user with this e-mail already exists"),
    N_("Page not found"),
    N_("Partner not found"),
    N_("Portal not found"),
    N_("Only the parent partner can change this partner"),
    N_("An end-user company cannot have partners under it"),
    N_("The parent partner is blocked"),
    N_("The default language must be one of the offered languages"),
    N_("Only the owner or a reseller can own a portal"),
    N_("Insufficient balance: the change would go below the credit limit"),
    N_("API key not found"),
    N_("Message not found"),
    N_("Contact not found"),
    N_("Group not found"),
    N_("Field not found"),
    N_("Sender ID not found"),
    N_("Assignment not found"),
    N_("Attachment not found"),
    N_("Campaign not found"),
    N_("Country not found"),
    N_("Country for this number not found"),
    N_("Export file not found"),
    N_("Export task not found"),
    N_("File not found"),
    N_("Finance record not found"),
    N_("Import not found"),
    N_("Invalid rows file not found"),
    N_("MO route not found"),
    N_("Message record not found"),
    N_("Network not found"),
    N_("Payment account not found"),
    N_("Payment system not found"),
    N_("Payment not found"),
    N_("Pack not found"),
    N_("Rate plan not found"),
    N_("Rate not found"),
    N_("Reply template not found"),
    N_("Request not found"),
    N_("Short domain not found"),
    N_("Table not found"),
    N_("Template not found"),
    N_("Vendor connection not found"),
)

# ACC-7's refusals (core.tenancy.scope.require_admin and require_owner), whole sentences as the pages show them.
ROLE_REFUSALS = (
    N_("Operators cannot assign rate plans; ask an admin of your company"),
    N_("Operators cannot change Callback Settings; ask an admin of your company"),
    N_("Operators cannot change balances; ask an admin of your company"),
    N_("Operators cannot change partners; ask an admin of your company"),
    N_("Operators cannot change portal settings; ask an admin of your company"),
    N_("Operators cannot create partners; ask an admin of your company"),
    N_("Operators cannot create portals; ask an admin of your company"),
    N_("Operators cannot create users; ask an admin of your company"),
    N_("Operators cannot delete campaigns; ask an admin of your company"),
    N_("Operators cannot delete contacts; ask an admin of your company"),
    N_("Operators cannot delete fields; ask an admin of your company"),
    N_("Operators cannot delete groups; ask an admin of your company"),
    N_("Operators cannot delete WhatsApp templates; ask an admin of your company"),
    N_("Operators cannot grant short domains; ask an admin of your company"),
    N_("Operators cannot manage API keys; ask an admin of your company"),
    N_("Operators cannot manage rate plans; ask an admin of your company"),
    N_("Operators cannot manage packs; ask an admin of your company"),
    N_("Operators cannot buy packs; ask an admin of your company"),
    N_("Operators cannot remove packs; ask an admin of your company"),
    N_("Operators cannot ask for rate plans and packs; ask an admin of your company"),
    N_("Operators cannot see finance; ask an admin of your company"),
    N_("Operators cannot see margins; ask an admin of your company"),
    N_("Operators cannot see the activity log; ask an admin of your company"),
    N_("Operators cannot select rate plans; ask an admin of your company"),
    N_("Operators cannot set payment systems; ask an admin of your company"),
    N_("Operators cannot top up the balance; ask an admin of your company"),
    N_("Only the system owner's admins can add short domains"),
    N_("Only the system owner's admins can change the numbering book"),
    N_("Only the system owner's admins can manage vendor connections"),
    N_("Only the system owner's admins can rerate campaigns"),
    N_("Only the system owner's admins can remove short domains"),
    N_("Only the system owner's admins can set sender IDs"),
)

# Roles are stored as these words and shown through the catalogue (layout.html, admin/partner.html).
ROLE_NAMES = (N_("admin"), N_("operator"))

# Statuses of stored e-mail (core.mail.tables.MAIL_STATUSES), shown through the catalogue by the dev outbox.
MAIL_STATUS_NAMES = (N_("queued"), N_("sent"), N_("failed"), N_("outbox"))


# Catalogues installed at run time, by tests only (the pseudo-language of tests/core/web/pseudo.py); production
# installs none, so no request can reach one.
_installed: dict[str, gettext.NullTranslations] = {}


def install_catalogue(language: str, catalogue: gettext.NullTranslations | None) -> None:
    """Serve ``catalogue`` as ``language`` from now on; None removes it. Jinja environments built before keep theirs."""
    if catalogue is None:
        _installed.pop(language, None)
    else:
        _installed[language] = catalogue


def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language``: an installed one, else the shipped one."""
    return _installed.get(language) or _compiled(language)


@cache
def _compiled(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language``, compiled in memory from its .po file (no build step, no binary in git).

    English is the source language and needs none; so does a code without a catalogue.
    """
    source = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or language not in LANGUAGES or not source.is_file():
        return gettext.NullTranslations()
    with source.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    # Fuzzy entries are guesses left by `pybabel update`; write_mo skips them, so they fall back to English.
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(language: str, message: str | None) -> str:
    """``message`` in ``language`` as plain text: the ``translate`` filter, for values the code chose (a label,
    an error) rather than literals in templates.

    Jinja's ``_()`` marks its result safe and %-formats it, which is right for a literal and wrong for anything
    that may carry user input or a '%'; the filter's result is escaped like any value. User data (names of
    fields, groups, contacts) is never looked up: templates show it as is.
    """
    if not message:
        return ""
    catalogue = translations(language)
    if isinstance(message, Message):
        return message.translated(catalogue)
    found = catalogue.gettext(message)
    if found != message:
        return found
    if named := NAMED_ERROR.match(message):
        # An error naming its field ("name: required"): the field is a key, the message is catalogue text.
        return f"{named['field']}: {translate(language, named['message'])}"
    if counted := COUNTED.match(message):
        return _counted(catalogue, counted["limit"], int(counted["num"]), counted["unit"])
    return found


# An error's detail that starts with the field it names (core.web.forms.validation_error writes them).
NAMED_ERROR = re.compile(r"^(?P<field>[a-z_][a-z0-9_.]*): (?P<message>.*)$", re.S)
# The limits core.web.forms words msgspec's errors in ("at least 3 characters"): a number needs its plural form.
COUNTED = re.compile(r"^(?P<limit>at least|at most) (?P<num>\d+)(?: (?P<unit>characters|items))?$")


def _counted(catalogue: gettext.NullTranslations, limit: str, num: int, unit: str | None) -> str:
    if unit is None:  # a bound of a number: no plural
        text = catalogue.gettext("at least %(num)d") if limit == "at least" else catalogue.gettext("at most %(num)d")
    elif (limit, unit) == ("at least", "characters"):
        text = catalogue.ngettext("at least %(num)d character", "at least %(num)d characters", num)
    elif (limit, unit) == ("at most", "characters"):
        text = catalogue.ngettext("at most %(num)d character", "at most %(num)d characters", num)
    elif (limit, unit) == ("at least", "items"):
        text = catalogue.ngettext("at least %(num)d item", "at least %(num)d items", num)
    else:
        text = catalogue.ngettext("at most %(num)d item", "at most %(num)d items", num)
    return text % {"num": num}


# An error's detail that starts with the field it names (core.web.forms.validation_error writes them).
NAMED_ERROR = re.compile(r"^(?P<field>[a-z_][a-z0-9_.]*): (?P<message>.*)$", re.S)


def field_message(language: str, error: str | None) -> str:
    """An error shown beside its field: the message alone, in ``language`` (the field is where it shows)."""
    if not error:
        return ""
    if isinstance(error, Message):
        return translate(language, error)
    named = NAMED_ERROR.match(error)
    return translate(language, named["message"] if named else error)


def pick_language(request: Request, actor: Actor | None, portal: PortalContext | None) -> str:
    """The signed-in user's language, else the picker's cookie, else the portal's default."""
    offered = portal.languages if portal else LANGUAGES
    if actor is not None and actor.language in offered:
        return actor.language
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in offered:
        return chosen
    return portal.default_language if portal else "en"
