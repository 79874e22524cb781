"""A number's local time zone (CMP-8), from phonenumbers' prefix table: a dict walk per number, cached per prefix."""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as number_zones
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

UNKNOWN = "Etc/Unknown"

# A prefix's zone once chosen; the table maps a prefix to one zone or, for mobile ranges of a country that spans
# several (Russia, Australia, Spain with the Canaries), to all of them.
_chosen: dict[str, str] = {}


def zone_of(phone: str) -> str:
    """The IANA zone of an E.164 number (digits only); '' when the number says nothing about its place.

    Where the prefix spans several zones, the country's main one (phonenumbers' geographic answer) is taken.
    """
    for size in range(min(len(phone), TIMEZONE_LONGEST_PREFIX), 0, -1):
        prefix = phone[:size]
        if prefix in TIMEZONE_DATA:
            if prefix not in _chosen:
                _chosen[prefix] = _choose(prefix, phone)
            return _chosen[prefix]
    return ""


def _choose(prefix: str, phone: str) -> str:
    zones = TIMEZONE_DATA[prefix]
    if len(zones) == 1 and zones[0] != UNKNOWN:
        return zones[0]
    try:
        found = number_zones.time_zones_for_geographical_number(phonenumbers.parse("+" + phone))
    except phonenumbers.NumberParseException:
        return ""
    return "" if not found or found[0] == UNKNOWN else found[0]
