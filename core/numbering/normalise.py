"""Phone numbers to E.164 digits (NUM-2), fast enough for a 300,000-row import: no parsing library per row."""

from __future__ import annotations

import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

# Known country calling codes (1 to 3 digits), from phonenumbers' metadata, read once.
_COUNTRY_CODES = frozenset(str(code) for code in COUNTRY_CODE_TO_REGION_CODE if code)
_SEPARATORS = re.compile(r"[\s().\-/]")
MIN_DIGITS, MAX_DIGITS = 8, 15


class InvalidNumber(ValueError):
    """The reason a number was refused, worded for the person who typed it."""


def normalise(raw: object) -> str:
    """'+34 (612) 345-678', '0034612345678', '34612345678.0' → '34612345678'.

    Raises:
        InvalidNumber: letters or symbols, too short or too long, or an unknown country code.
    """
    text = str(raw).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]  # spreadsheets hand numbers over as floats
    text = _SEPARATORS.sub("", text)
    if text.startswith("+"):
        text = text[1:]
    elif text.startswith("00"):
        text = text[2:]
    if not text:
        raise InvalidNumber("empty phone number")
    if not text.isdigit():
        raise InvalidNumber("a phone number has only digits (and an optional leading +)")
    if len(text) < MIN_DIGITS:
        raise InvalidNumber(f"too short: at least {MIN_DIGITS} digits with the country code")
    if len(text) > MAX_DIGITS:
        raise InvalidNumber(f"too long: at most {MAX_DIGITS} digits")
    if not (text[:1] in _COUNTRY_CODES or text[:2] in _COUNTRY_CODES or text[:3] in _COUNTRY_CODES):
        raise InvalidNumber("unknown country code")
    return text
