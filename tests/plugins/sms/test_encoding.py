"""GSM-7 / UCS-2 encoding, part splitting and segment counting: what a subscriber's phone shows and what is billed."""

from __future__ import annotations

import random

import pytest

from plugins.sms import encoding
from plugins.sms.encoding import address_ton_npi, data_coding, decode, encode_gsm7, segments, split


def reassemble(parts: list[bytes], ucs2: bool) -> str:
    # What a handset does: strip each UDH, join the octets, decode.
    payload = b"".join(p[6:] for p in parts) if len(parts) > 1 else parts[0]
    return decode(payload, 8 if ucs2 else 0)


def test_gsm7_is_unpacked_septets_with_extension_characters_escaped():
    assert encode_gsm7("Hi €").hex(" ") == "48 69 20 1b 65"
    assert encode_gsm7("@£$_{}[]~|^\\\f") == bytes.fromhex("00 01 02 11 1b28 1b29 1b3c 1b3e 1b3d 1b40 1b14 1b2f 1b0a")
    assert encoding.is_gsm7("Ça va? Ñoño ù §5") and not encoding.is_gsm7("ça va")  # lower-case ç is not GSM
    assert decode(encode_gsm7("Grüße {1} à €5"), 0) == "Grüße {1} à €5"


BOUNDARIES = [
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("€" * 80, 1),
    ("€" * 81, 2),
    ("Ж" * 70, 1),
    ("Ж" * 71, 2),
    ("Ж" * 134, 2),
    ("Ж" * 135, 3),
    ("😀" * 35, 1),
    ("😀" * 36, 2),
    ("", 0),
]


@pytest.mark.parametrize(("text", "parts"), BOUNDARIES, ids=[f"{len(t)}x{t[:1]!r}" for t, _ in BOUNDARIES])
def test_segments_and_the_splitter_agree_at_the_boundaries(text, parts):
    assert segments(text) == parts
    if text:
        ucs2, chunks = split(text, 7)
        assert len(chunks) == parts
        assert reassemble(chunks, ucs2) == text


def test_multipart_gsm7_parts_carry_the_concatenation_udh_and_153_septets():
    ucs2, chunks = split("x" * 400, 300)
    assert not ucs2 and len(chunks) == 3
    assert [c[:6].hex(" ") for c in chunks] == ["05 00 03 2c 03 01", "05 00 03 2c 03 02", "05 00 03 2c 03 03"]
    assert [len(c) - 6 for c in chunks] == [153, 153, 94]


def test_an_escape_pair_is_never_split_across_parts():
    text = "a" * 152 + "€" + "a" * 10  # the € would straddle septets 153/154
    ucs2, chunks = split(text, 1)
    assert len(chunks) == 2 == segments(text)
    assert chunks[0][-1] != 0x1B and len(chunks[0]) - 6 == 152
    assert chunks[1][6:8] == b"\x1b\x65"
    assert reassemble(chunks, ucs2) == text


def test_a_surrogate_pair_is_never_split_across_parts():
    text = "Ж" * 66 + "😀" + "Ж" * 5  # the emoji would straddle units 67/68
    ucs2, chunks = split(text, 1)
    assert ucs2 and len(chunks) == 2 == segments(text)
    for chunk in chunks:
        chunk[6:].decode("utf-16-be")  # strict: raises on half a pair
    assert len(chunks[0]) - 6 == 132 and reassemble(chunks, ucs2) == text


def test_segments_agree_with_the_splitter_on_random_texts():
    rng = random.Random(42)
    alphabet = "abc €{Ж😀ç"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 400)))
        ucs2, chunks = split(text, 9)
        assert segments(text) == len(chunks), text
        assert reassemble(chunks, ucs2) == text


def test_flash_data_coding_and_addresses():
    assert (data_coding(False, False), data_coding(True, False)) == (0x00, 0x08)
    assert (data_coding(False, True), data_coding(True, True)) == (0x10, 0x18)
    assert decode("Привет".encode("utf-16-be"), 0x18) == "Привет" and decode(b"Hi", 0x10) == "Hi"
    assert address_ton_npi("ShopCo") == (5, 0, "ShopCo")
    assert address_ton_npi("Shop 24") == (5, 0, "Shop 24")
    assert address_ton_npi("12345") == (3, 0, "12345")
    assert address_ton_npi("+4915112345678") == (1, 1, "4915112345678")
    assert address_ton_npi("4915112345678") == (1, 1, "4915112345678")
