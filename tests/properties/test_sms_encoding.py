"""Properties of GSM-7 / UCS-2 encoding, part splitting and segment counting (CMP-3)."""

import math

from hypothesis import given
from hypothesis import strategies as st

from plugins.sms import encoding

GSM_TEXT = st.text(alphabet=sorted(encoding.GSM7_BASIC | encoding.GSM7_EXTENSION), max_size=700)
NON_GSM = st.characters(codec="utf-16", exclude_characters="".join(encoding.GSM7_BASIC | encoding.GSM7_EXTENSION))
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
UCS2_TEXT = (
    st.tuples(st.text(max_size=300), NON_GSM, st.text(max_size=300))
    .map("".join)
    .filter(lambda text: all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in text))
)


def _units(text: str) -> int:
    return len(text.encode("utf-16-be")) // 2


@given(GSM_TEXT)
def test_gsm7_text_encodes_as_gsm7_and_round_trips(text: str) -> None:
    payload, ucs2 = encoding.encode(text)
    assert not ucs2
    assert encoding.decode_gsm7(payload) == text
    assert encoding.decode(payload, encoding.DC_GSM7) == text


@given(GSM_TEXT)
def test_extension_characters_count_as_two_septets(text: str) -> None:
    extension = sum(ch in encoding.GSM7_EXTENSION for ch in text)
    assert encoding.gsm7_septets(text) == len(text) + extension


@given(GSM_TEXT.filter(lambda text: "\x1b" not in text))
def test_gsm7_segments_are_160_or_153_septets(text: str) -> None:
    septets = encoding.gsm7_septets(text)
    count = encoding.segments(text)
    if not text:
        assert count == 0
    elif septets <= encoding.GSM7_SINGLE:
        assert count == 1
    else:
        # An ESC pair is never cut, so a part can lose one septet: at most one more part than the plain rule.
        assert math.ceil(septets / encoding.GSM7_PART) <= count <= math.ceil(septets / (encoding.GSM7_PART - 1))


@given(GSM_TEXT.filter(lambda text: not (set(text) & encoding.GSM7_EXTENSION)))
def test_gsm7_basic_only_segments_follow_the_plain_rule(text: str) -> None:
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert encoding.segments(text) == expected


@given(UCS2_TEXT)
def test_a_non_gsm_character_makes_the_text_ucs2_and_it_round_trips(text: str) -> None:
    payload, ucs2 = encoding.encode(text)
    assert ucs2
    assert encoding.decode(payload, encoding.DC_UCS2) == text


@given(
    st.text(alphabet=st.one_of(EMOJI, st.sampled_from("aé€")), min_size=1, max_size=200).filter(
        lambda text: not encoding.is_gsm7(text)
    )
)
def test_emoji_count_two_units_and_are_never_split(text: str) -> None:
    units = _units(text)
    assert units == sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    ucs2, parts = encoding.split(text, reference=7)
    assert ucs2
    if units <= encoding.UCS2_SINGLE:
        assert len(parts) == 1
        return
    bodies = [part[6:] for part in parts]
    assert all(len(body) <= encoding.UCS2_PART * 2 for body in bodies)
    # Every part decodes on its own: no surrogate pair is cut between two parts.
    assert "".join(body.decode("utf-16-be") for body in bodies) == text


@given(st.one_of(GSM_TEXT, UCS2_TEXT), st.integers(min_value=0, max_value=1000))
def test_the_priced_count_is_the_number_of_parts_sent(text: str, reference: int) -> None:
    _, parts = encoding.split(text, reference)
    assert encoding.segments(text) == (len(parts) if text else 0)
    if len(parts) > 1:
        assert all(part[:3] == b"\x05\x00\x03" and part[3] == reference & 0xFF for part in parts)
        assert [part[5] for part in parts] == list(range(1, len(parts) + 1))
        assert {part[4] for part in parts} == {len(parts)}
        body = b"".join(part[6:] for part in parts)
    else:
        body = parts[0]
    assert body == encoding.encode(text)[0]
