"""Numbering tables: the E.212/E.164 book the owner keeps (NUM-1) and its change stamp."""

from __future__ import annotations

from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table


class Country(Table, tablename="numbering_country"):
    """A country of the book: ISO code, name, its (main) MCC and its E.164 country calling code."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    iso = Varchar(length=2, unique=True, help_text="ISO 3166-1 alpha-2, upper case")
    name = Varchar(length=80)
    mcc = Varchar(length=3, help_text="Main MCC; networks carry their own (a country may have several)")
    dial_code = Varchar(length=4, index=True, help_text="E.164 country calling code without '+', e.g. 34")


class Network(Table, tablename="numbering_network"):
    """A mobile network (MCC, MNC) of a country; ``mnc`` empty is the country's "All networks" row."""

    id: Serial

    country = ForeignKey(references=Country, on_delete=OnDelete.cascade, index=True)
    mcc = Varchar(length=3)
    mnc = Varchar(length=3, default="", help_text="Kept as text: '01' and '001' differ; empty = All networks")
    name = Varchar(length=120)


class Prefix(Table, tablename="numbering_prefix"):
    """An E.164 number prefix (digits, country code included) allocated to a network; longest match wins."""

    id: Serial

    network = ForeignKey(references=Network, on_delete=OnDelete.cascade, index=True)
    prefix = Varchar(length=15, unique=True)


class BookStamp(Table, tablename="numbering_stamp"):
    """One row, rewritten by every change of the book, so each process sees when its cached index is old."""

    id: Serial

    stamp = Varchar(length=32, help_text="Random on every change (survives truncation: never reused)")
    changed_at = Timestamptz()
