"""Money as integer micro-units (BIL-1): conversion from and to decimal amounts, and display."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

MICROS = 1_000_000
CENT = Decimal("0.01")


def to_micros(amount: Decimal | int | str) -> int:
    """Decimal currency units → integer micro-units; finer fractions are rounded half-even."""
    return int((Decimal(amount) * MICROS).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_micros(micros: int) -> Decimal:
    return Decimal(micros) / MICROS if micros % MICROS else Decimal(micros // MICROS)


def format_amount(value: Decimal, currency: str) -> str:
    """'1,234.50 EUR': two decimals, more only when the amount has them (rates are often sub-cent)."""
    places = max(2, -int(value.normalize().as_tuple().exponent)) if value % CENT else 2
    return f"{value:,.{places}f} {currency}"


def format_money(micros: int, currency: str) -> str:
    return format_amount(from_micros(micros), currency)


MAX_AMOUNT = Decimal(10**9)


def check_amount(value: Decimal, field: str, *, signed: bool = False) -> None:
    """Raise ValueError naming ``field`` when an amount is not finite, too large, too precise or negative.

    Used from msgspec ``__post_init__`` hooks (msgspec's own bounds do not apply to Decimal).
    """
    if not value.is_finite():
        raise ValueError(f"{field}: not a number")
    if abs(value) > MAX_AMOUNT:
        raise ValueError(f"{field}: must be at most {MAX_AMOUNT:,} in absolute value")
    if not signed and value < 0:
        raise ValueError(f"{field}: must not be negative")
    if value != value.quantize(Decimal("0.000001")):
        raise ValueError(f"{field}: at most 6 decimal places")
