"""Message text with contact variables (TPL-3): ``{first_name}``, ``{phone}``, custom fields by variable."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.db import json_value
from core.errors import InvalidInput
from core.web.forms import check_web_address
from core.web.i18n import N_

VARIABLE = re.compile(r"\{([a-z][a-z0-9_]{0,39})\}")
CONTACT_VARIABLES = ("phone", "first_name", "last_name", "birth_date", "gender", "comments")
# Labels of the contact columns on the variable buttons; looked up in the catalogue where they are shown.
CONTACT_LABELS = {
    "phone": N_("Phone"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "birth_date": N_("Birth date"),
    "gender": N_("Gender"),
    "comments": N_("Comments"),
}
ESTIMATE_WIDTH = 10  # a variable counts as ten characters in length estimates (TPL-3)


def variables_in(text: str) -> list[str]:
    return VARIABLE.findall(text)


def unknown_variables(text: str, custom: Iterable[str]) -> list[str]:
    """Variables of ``text`` that are neither contact columns nor the partner's custom fields."""
    known = set(CONTACT_VARIABLES) | set(custom)
    return sorted({v for v in variables_in(text) if v not in known})


def estimate_text(text: str) -> str:
    """The text with every variable replaced by ten characters, for the segment counter before sending."""
    return VARIABLE.sub("x" * ESTIMATE_WIDTH, text)


def contact_values(contact: Mapping[str, Any] | None, phone: str) -> dict[str, Any]:
    """One recipient's variables: its contact's columns and custom fields (none without a contact), and the phone."""
    values: dict[str, Any] = {k: contact.get(k) for k in CONTACT_VARIABLES} if contact else {}
    values["phone"] = phone
    values.update((json_value(contact.get("custom")) if contact else None) or {})
    return values


def render(text: str, values: dict[str, Any]) -> str:
    """Fill the variables from one recipient's values; a missing value becomes an empty string."""

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        return "" if found is None else str(found)

    return VARIABLE.sub(value, text)


def with_short_link(text: str, url: str, short_url: str) -> str:
    """The text with the link chosen for shortening (URL-1) replaced, wherever it appears, by the short link."""
    return text.replace(url, short_url) if url else text


RICH_KEYS = ("image_url", "button_caption", "button_url")


def traffic_type(content: Mapping[str, Any]) -> str:
    """How Viber classes (and bills) a message: promotion whenever it shows an image or a button, else
    transaction. Channels without images or buttons have only transactions."""
    return "promotion" if content.get("image_url") or content.get("button_caption") else "transaction"


def check_rich(provider: Any, image_url: str, button_caption: str, button_url: str) -> None:
    """Image and button, for campaigns and templates alike: only where the channel shows them, as web addresses,
    a button with both parts.

    Raises:
        InvalidInput: naming the field.
    """
    if image_url.strip() and not provider.capabilities.images:
        raise InvalidInput(N_("The chosen channel cannot show images"), field="image_url")
    if (button_caption.strip() or button_url.strip()) and not provider.capabilities.buttons:
        raise InvalidInput(N_("The chosen channel cannot show buttons"), field="button_caption")
    if button_caption.strip() and not button_url.strip():
        raise InvalidInput(N_("Give the address the button leads to"), field="button_url")
    if button_url.strip() and not button_caption.strip():
        raise InvalidInput(N_("Give the button a caption"), field="button_caption")
    check_web_address(image_url.strip(), "image_url")
    check_web_address(button_url.strip(), "button_url")
