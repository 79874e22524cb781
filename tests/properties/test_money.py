"""Properties of money in integer micro-units (BIL-1): conversion, display and sums without float error."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.money import MAX_AMOUNT, format_amount, from_micros, to_micros

AMOUNTS = st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=6, allow_nan=False, allow_infinity=False)
MICROS = st.integers(min_value=-(10**15), max_value=10**15)


@given(AMOUNTS)
def test_amounts_round_trip_through_micros(amount: Decimal) -> None:
    assert from_micros(to_micros(amount)) == amount
    assert to_micros(str(amount)) == to_micros(amount)


@given(MICROS)
def test_micros_round_trip_through_amounts(micros: int) -> None:
    assert to_micros(from_micros(micros)) == micros


@given(AMOUNTS)
def test_formatting_and_parsing_agree(amount: Decimal) -> None:
    shown = format_amount(amount, "EUR")
    number, currency = shown.rsplit(" ", 1)
    assert currency == "EUR"
    assert Decimal(number.replace(",", "")) == amount


@given(st.lists(AMOUNTS, max_size=50))
def test_summing_micros_equals_the_decimal_sum(amounts: list[Decimal]) -> None:
    assert from_micros(sum(to_micros(amount) for amount in amounts)) == sum(amounts, Decimal(0))


@given(st.decimals(min_value=0, max_value=10, places=6), st.integers(min_value=0, max_value=10**7))
def test_price_times_count_is_exact(price: Decimal, count: int) -> None:
    assert to_micros(price) * count == to_micros(price * count)
    assert from_micros(to_micros(price) * count) == price * count
