"""Phone numbers to E.164 digits (NUM-2), fast enough for a 300,000-row import: no parsing library per row."""

from __future__ import annotations

import re
from functools import cache

from babel import Locale
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

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
    # The usual case, digits with the country code, has nothing to clean (700 numbers per API request).
    text = raw if type(raw) is str and raw.isdigit() and raw[0] != "0" else _cleaned(raw)
    if len(text) < MIN_DIGITS:
        raise InvalidNumber(f"too short: at least {MIN_DIGITS} digits with the country code")
    if len(text) > MAX_DIGITS:
        raise InvalidNumber(f"too long: at most {MAX_DIGITS} digits")
    # Country codes are prefix-free (ITU-T E.164), so at most one of these matches.
    if text[:1] in _COUNTRY_CODES:
        code = text[:1]
    elif text[:2] in _COUNTRY_CODES:
        code = text[:2]
    elif text[:3] in _COUNTRY_CODES:
        code = text[:3]
    else:
        raise InvalidNumber("unknown country code")
    shortest, longest, country = _national_lengths(code)
    national = len(text) - len(code)
    if not shortest <= national <= longest:
        expected = f"{shortest}" if shortest == longest else f"{shortest} to {longest}"
        reason = "too short" if national < shortest else "too long"
        raise InvalidNumber(f"{reason} for {country} (+{code}): {expected} digits after the country code")
    return text


def _cleaned(raw: object) -> str:
    """The digits of a number written with separators, a leading + or 00, or as a spreadsheet's float."""
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
    return text


@cache
def _national_lengths(code: str) -> tuple[int, int, str]:
    """Shortest and longest national significant number for a country code, and the country's name.

    Read once per code from phonenumbers' metadata (union over the regions sharing the code), so the
    import hot path pays a dictionary lookup, not a parse.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE[int(code)]
    lengths: set[int] = set()
    for region in regions:
        metadata = (
            PhoneMetadata.metadata_for_nongeo_region(int(code))
            if region == "001"
            else PhoneMetadata.metadata_for_region(region)
        )
        if metadata is not None and metadata.general_desc is not None:
            lengths.update(length for length in metadata.general_desc.possible_length if length > 0)
    territories = Locale("en").territories
    country = territories.get(regions[0], regions[0]) if regions[0] != "001" else "international services"
    if not lengths:
        return 1, MAX_DIGITS - len(code), country
    return min(lengths), max(lengths), country
