"""Properties of phone number normalisation (NUM-2) with per-country lengths."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.numbering.normalise import InvalidNumber, _national_lengths, normalise

# Country codes with their national length range, from the same metadata the check uses.
CODES = ["1", "7", "33", "34", "39", "44", "49", "52", "55", "86", "91", "234", "351", "880"]


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    code = draw(st.sampled_from(CODES))
    shortest, longest, _ = _national_lengths(code)
    # The global bounds (8 to 15 digits in all) still apply on top of the per-country range.
    size = draw(st.integers(min_value=max(shortest, 8 - len(code)), max_value=min(longest, 15 - len(code))))
    national = draw(st.text(alphabet="0123456789", min_size=size, max_size=size))
    return code + national


@st.composite
def noisy(draw: st.DrawFn, digits: str) -> str:
    """The same number as people type it: + or 00, spaces, dashes, dots, slashes and parentheses."""
    prefix = draw(st.sampled_from(["", "+", "00", " +"]))
    out = []
    for digit in digits:
        out.append(draw(st.sampled_from(["", "", " ", "-", ".", "(", ")", "/"])))
        out.append(digit)
    return prefix + "".join(out) + draw(st.sampled_from(["", " "]))


@given(valid_numbers())
def test_valid_numbers_are_kept_as_digits_with_the_country_code(number: str) -> None:
    result = normalise(number)
    assert result == number and result.isdigit()


@given(valid_numbers().flatmap(lambda digits: st.tuples(st.just(digits), noisy(digits))))
def test_formatting_noise_does_not_change_the_result(pair: tuple[str, str]) -> None:
    digits, typed = pair
    assert normalise(typed) == digits


@given(st.text(alphabet="0123456789 +-.()", max_size=20))
def test_normalise_is_idempotent_and_refuses_with_a_reason(text: str) -> None:
    try:
        result = normalise(text)
    except InvalidNumber as refused:
        assert str(refused)
        return
    assert result.isdigit() and normalise(result) == result


@given(st.sampled_from(CODES).flatmap(lambda code: st.tuples(st.just(code), st.integers(min_value=1, max_value=4))))
def test_too_short_national_numbers_are_refused(case: tuple[str, int]) -> None:
    code, missing = case
    shortest = _national_lengths(code)[0]
    number = code + "6" * max(shortest - missing, 0)
    with pytest.raises(InvalidNumber, match="too short"):
        normalise(number)


def test_a_too_short_spanish_number_is_refused() -> None:
    with pytest.raises(InvalidNumber, match=r"too short for Spain \(\+34\)"):
        normalise("34609123")
    assert normalise("34609123456") == "34609123456"
