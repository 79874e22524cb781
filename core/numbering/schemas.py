"""Numbering Structs: countries, networks with their prefixes, and the result of loading a book."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

Iso = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, upper case, e.g. ES")]
Mcc = Annotated[str, Meta(pattern=r"^[0-9]{3}$", description="Mobile country code, 3 digits")]
Mnc = Annotated[
    str, Meta(pattern=r"^([0-9]{2,3})?$", description="Mobile network code, 2 or 3 digits; empty = All networks")
]
DialCode = Annotated[str, Meta(pattern=r"^[1-9][0-9]{0,2}$", description="E.164 country calling code without '+'")]
PrefixDigits = Annotated[str, Meta(pattern=r"^[0-9]{1,15}$", description="E.164 digits, country code included")]
CountryName = Annotated[str, Meta(min_length=1, max_length=80)]
NetworkName = Annotated[str, Meta(min_length=1, max_length=120)]

ALL_NETWORKS = "All networks"


class CountryIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    iso: Iso
    name: CountryName
    mcc: Mcc
    dial_code: DialCode


class CountryUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: CountryName | UnsetType = UNSET
    mcc: Mcc | UnsetType = UNSET
    dial_code: DialCode | UnsetType = UNSET


class CountryView(msgspec.Struct, kw_only=True):
    id: int
    iso: str
    name: str
    mcc: str
    dial_code: str
    networks: int = 0


class NetworkIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    country_iso: Iso
    mcc: Mcc
    mnc: Mnc
    name: NetworkName
    prefixes: list[PrefixDigits] = []


class NetworkUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    mcc: Mcc | UnsetType = UNSET
    mnc: Mnc | UnsetType = UNSET
    name: NetworkName | UnsetType = UNSET
    prefixes: list[PrefixDigits] | UnsetType = UNSET


class NetworkView(msgspec.Struct, kw_only=True):
    id: int
    country_id: int
    country_iso: str
    country: str
    dial_code: str
    mcc: str
    mnc: str
    name: str
    prefixes: list[str]

    @property
    def mccmnc(self) -> str:
        return self.mcc + self.mnc


class BookSummary(msgspec.Struct, kw_only=True):
    """What a loaded book holds now."""

    countries: int
    networks: int
    prefixes: int


class Resolution(msgspec.Struct, kw_only=True):
    number: str
    country_iso: str
    country: str
    mcc: str
    mnc: str
    network: str
