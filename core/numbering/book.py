"""Reading the numbering book from CSV (NUM-1): every row checked before anything is stored.

Columns: ``country_iso,country,dial_code,mcc,mnc,network,prefixes``; ``prefixes`` are space-separated E.164
digits (country code included); an empty ``mnc`` is the country's "All networks" row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.errors import InvalidInput
from core.numbering.schemas import ALL_NETWORKS

BOOK_COLUMNS = ("country_iso", "country", "dial_code", "mcc", "mnc", "network", "prefixes")
MAX_CSV_BYTES = 5 * 1024 * 1024

_ISO = re.compile(r"^[A-Z]{2}$")
_MCC = re.compile(r"^[0-9]{3}$")
_MNC = re.compile(r"^([0-9]{2,3})?$")
_DIAL = re.compile(r"^[1-9][0-9]{0,2}$")
_DIGITS = re.compile(r"^[0-9]{1,15}$")


class CsvError(InvalidInput):
    """A CSV file was refused: ``detail`` names the row (counting the header as row 1) and the column."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(f"Row {row}, {column}: {message}" if row else f"{column}: {message}", field="file")
        self.row = row
        self.column = column


def csv_rows(data: bytes, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Iterator[tuple[int, dict]]:
    """(row number, {column: stripped text}) of a UTF-8 CSV (BOM, ',' or ';'); the header must name ``required``."""
    if len(data) > MAX_CSV_BYTES:
        raise CsvError(0, "file", f"larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(0, "file", "not a UTF-8 text file") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvError(1, "header", f"missing column(s) {', '.join(missing)}; expected {','.join(required + optional)}")
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            raise CsvError(number, "row", f"{len(values)} values but the header has {len(header)} columns")
        yield number, {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)}


@dataclass
class BookNetwork:
    mcc: str
    mnc: str
    name: str
    prefixes: list[str] = field(default_factory=list)


@dataclass
class BookCountry:
    iso: str
    name: str
    dial_code: str
    mcc: str = ""
    networks: list[BookNetwork] = field(default_factory=list)


def parse_book(data: bytes) -> list[BookCountry]:
    """The countries of a book CSV, each with an "All networks" row; raises CsvError at the first bad value."""
    countries: dict[str, BookCountry] = {}
    networks: dict[tuple[str, str], int] = {}  # (mcc, mnc) → row
    prefixes: dict[str, int] = {}  # prefix → row
    for row, values in csv_rows(data, BOOK_COLUMNS):
        iso = values["country_iso"].upper()
        if not _ISO.match(iso):
            raise CsvError(row, "country_iso", "two letters, e.g. ES")
        name = values["country"]
        if not name or len(name) > 80:
            raise CsvError(row, "country", "required, at most 80 characters")
        dial = values["dial_code"].lstrip("+")
        if not _DIAL.match(dial):
            raise CsvError(row, "dial_code", "1 to 3 digits, e.g. 34")
        mcc, mnc = values["mcc"], values["mnc"]
        if not _MCC.match(mcc):
            raise CsvError(row, "mcc", "3 digits, e.g. 214")
        if not _MNC.match(mnc):
            raise CsvError(row, "mnc", "2 or 3 digits, or empty for All networks")
        network = values["network"] or (ALL_NETWORKS if not mnc else "")
        if not network or len(network) > 120:
            raise CsvError(row, "network", "required, at most 120 characters")
        country = countries.get(iso)
        if country is None:
            country = countries[iso] = BookCountry(iso=iso, name=name, dial_code=dial)
        elif country.dial_code != dial:
            raise CsvError(row, "dial_code", f"{iso} has dial code {country.dial_code} in an earlier row")
        if (mcc, mnc) in networks:
            raise CsvError(
                row, "mnc", f"MCC {mcc} MNC {mnc or '(All networks)'} is already in row {networks[mcc, mnc]}"
            )
        networks[mcc, mnc] = row
        if not mnc and country.mcc:
            raise CsvError(row, "mnc", f"{iso} already has an All networks row")
        entry = BookNetwork(mcc=mcc, mnc=mnc, name=network)
        for prefix in values["prefixes"].replace(",", " ").split():
            prefix = prefix.lstrip("+")
            if not _DIGITS.match(prefix):
                raise CsvError(row, "prefixes", f"{prefix!r} is not 1 to 15 digits")
            if not prefix.startswith(dial):
                raise CsvError(row, "prefixes", f"{prefix} does not start with the dial code {dial}")
            if prefix in prefixes:
                raise CsvError(row, "prefixes", f"{prefix} is already in row {prefixes[prefix]}")
            prefixes[prefix] = row
            entry.prefixes.append(prefix)
        if not mnc:
            country.mcc = mcc
            country.networks.insert(0, entry)
        else:
            country.networks.append(entry)
    if not countries:
        raise CsvError(0, "file", "no rows below the header")
    for country in countries.values():
        if not country.mcc:  # no All networks row given: the country's first network's MCC
            country.mcc = country.networks[0].mcc
            country.networks.insert(0, BookNetwork(mcc=country.mcc, mnc="", name=ALL_NETWORKS))
    return list(countries.values())


def book_csv(countries: list[BookCountry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BOOK_COLUMNS)
    for c in countries:
        for n in c.networks:
            writer.writerow([c.iso, c.name, c.dial_code, n.mcc, n.mnc, n.name, " ".join(n.prefixes)])
    return out.getvalue()
