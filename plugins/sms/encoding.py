"""GSM 03.38 / UCS-2 detection and segment counting: what an SMS costs in parts (CMP-3)."""

from __future__ import annotations

# GSM 03.38 basic character set; the extension table's characters take two septets (escape + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets; a UDH of 6 octets leaves 153 per part
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def gsm7_septets(text: str) -> int:
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def segments(text: str) -> int:
    """Parts the text takes: GSM-7 160/153 septets, else UCS-2 70/67 code units (emoji count as two)."""
    if not text:
        return 0
    if is_gsm7(text):
        # An extension character is never split across two parts, so count parts septet-exactly.
        if gsm7_septets(text) <= GSM7_SINGLE:
            return 1
        parts, used = 1, 0
        for ch in text:
            width = 2 if ch in GSM7_EXTENSION else 1
            if used + width > GSM7_PART:
                parts, used = parts + 1, 0
            used += width
        return parts
    units = len(text.encode("utf-16-le")) // 2
    if units <= UCS2_SINGLE:
        return 1
    return -(-units // UCS2_PART)
