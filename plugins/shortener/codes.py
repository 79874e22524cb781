"""Unguessable short codes: letters and digits from the operating system's random source."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_letters + string.digits
# byte % 62 favours the first 8 characters slightly (5/256 against 4/256): each character still carries at least
# log2(256/5) = 5.68 bits, so the shortest allowed code (8) has 45.4 bits.
_TABLE = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))


def new_codes(count: int, length: int) -> list[str]:
    """``count`` random codes of ``length`` characters, in one call to the random source."""
    text = secrets.token_bytes(count * length).translate(_TABLE).decode("ascii")
    return [text[i : i + length] for i in range(0, count * length, length)]
