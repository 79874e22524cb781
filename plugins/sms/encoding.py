"""GSM 03.38 / UCS-2 encoding, part splitting with concatenation UDHs, and segment counting (CMP-3)."""

from __future__ import annotations

import re

# GSM 03.38 basic table in code order (0x1B is the escape to the extension table, never a character).
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION_TABLE = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E}
_EXTENSION_TABLE |= {"|": 0x40, "€": 0x65}
ESC = 0x1B

GSM7_BASIC = frozenset(_BASIC_TABLE.replace("\x1b", ""))
GSM7_EXTENSION = frozenset(_EXTENSION_TABLE)

GSM7_SINGLE, GSM7_PART = 160, 153  # septets; the 6-octet UDH takes 7 septets of a part
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units (octets / 2)

DC_GSM7, DC_UCS2, DC_FLASH = 0x00, 0x08, 0x10  # flash = TP-DCS class 0: 0x10 (GSM-7) / 0x18 (UCS-2)

# str.translate maps each character to the latin-1 character of its septet, so one translate + encode
# turns a whole text into unpacked septets without a Python-level loop.
_TO_SEPTETS = {ord(ch): chr(code) for code, ch in enumerate(_BASIC_TABLE) if code != ESC}
_TO_SEPTETS |= {ord(ch): chr(ESC) + chr(code) for ch, code in _EXTENSION_TABLE.items()}
_FROM_SEPTETS = {code: ch for code, ch in enumerate(_BASIC_TABLE) if code != ESC}
_FROM_EXTENSION = {code: ch for ch, code in _EXTENSION_TABLE.items()}
_NOT_GSM7 = re.compile("[^" + re.escape("".join(GSM7_BASIC | GSM7_EXTENSION)) + "]")


def is_gsm7(text: str) -> bool:
    return _NOT_GSM7.search(text) is None


def gsm7_septets(text: str) -> int:
    return len(encode_gsm7(text))


def encode_gsm7(text: str) -> bytes:
    """Unpacked septets, one per octet, extension characters as ESC + code (how SMPP carries GSM-7)."""
    return text.translate(_TO_SEPTETS).encode("latin-1")


def decode_gsm7(data: bytes) -> str:
    """Unpacked septets back to text; an unknown extension code reads as its basic-table character."""
    out = []
    escaped = False
    for code in data:
        if escaped:
            out.append(_FROM_EXTENSION.get(code, _FROM_SEPTETS.get(code & 0x7F, "?")))
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            out.append(_FROM_SEPTETS.get(code & 0x7F, "?"))
    return "".join(out)


def encode(text: str) -> tuple[bytes, bool]:
    """The text as GSM-7 septets when every character fits, else as UTF-16BE; (payload, is_ucs2)."""
    if is_gsm7(text):
        return encode_gsm7(text), False
    return text.encode("utf-16-be"), True


def _cuts(payload: bytes, ucs2: bool) -> list[int]:
    """End offsets of each part in ``payload``; one cut per part.

    A part never ends inside an ESC pair (GSM-7) or between the halves of a surrogate pair (UCS-2), so
    such a part is one septet / one unit shorter.
    """
    size = len(payload)
    if size <= (UCS2_SINGLE * 2 if ucs2 else GSM7_SINGLE):
        return [size]
    step = UCS2_PART * 2 if ucs2 else GSM7_PART
    cuts, pos = [], 0
    while pos < size:
        end = pos + step
        if end >= size:
            end = size
        elif ucs2:
            if 0xD8 <= payload[end - 2] <= 0xDB:  # the part's last unit is a high surrogate
                end -= 2
        elif payload[end - 1] == ESC:
            # Every 0x1B in our septets opens an ESC pair (no extension code is 0x1B), so cut before it.
            end -= 1
        cuts.append(end)
        pos = end
    return cuts


def segments(text: str) -> int:
    """Parts the text takes: GSM-7 160/153 septets, else UCS-2 70/67 code units; agrees with split()."""
    if not text:
        return 0
    payload, ucs2 = encode(text)
    return len(_cuts(payload, ucs2))


def data_coding(ucs2: bool, flash: bool) -> int:
    return (DC_UCS2 if ucs2 else DC_GSM7) | (DC_FLASH if flash else 0)


def split(text: str, reference: int) -> tuple[bool, list[bytes]]:
    """The short_message of every part: (is_ucs2, parts).

    One part is the bare payload; several parts each start with the 8-bit-reference concatenation UDH
    ``05 00 03 ref total seq`` (esm_class 0x40). ``reference`` is taken modulo 256.
    """
    payload, ucs2 = encode(text)
    cuts = _cuts(payload, ucs2)
    if len(cuts) == 1:
        return ucs2, [payload]
    total, ref = len(cuts), reference & 0xFF
    parts, start = [], 0
    for seq, end in enumerate(cuts, 1):
        parts.append(bytes((5, 0, 3, ref, total, seq)) + payload[start:end])
        start = end
    return ucs2, parts


def decode(data: bytes, coding: int) -> str:
    """A short_message's text by its data_coding (MO messages)."""
    if coding & 0xF0 == 0xF0:  # coding group 1111: bit 2 picks 8-bit data, else GSM-7
        return data.decode("latin-1") if coding & 0x04 else decode_gsm7(data)
    if coding & 0xF0 == 0x10:  # general group with a message class (flash): bits 3-2 are the alphabet
        coding &= 0x0C
    if coding == DC_UCS2:
        return data.decode("utf-16-be", "replace")
    if coding == 0x01:  # IA5
        return data.decode("ascii", "replace")
    if coding == DC_GSM7:
        return decode_gsm7(data)
    return data.decode("latin-1")  # Latin-1 (3), 8-bit data (2, 4) and anything vendor-specific


def address_ton_npi(address: str) -> tuple[int, int, str]:
    """TON, NPI and the address as sent: alphanumeric 5/0, short code (≤ 6 digits) 3/0, else E.164 1/1."""
    digits = address[1:] if address.startswith("+") else address
    if digits.isdigit() and digits.isascii():
        return (3, 0, digits) if len(digits) <= 6 else (1, 1, digits)
    return 5, 0, address
