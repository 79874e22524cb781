"""Money as integer micro-units (BIL-1): conversion from and to decimal amounts, and display."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

MICROS = 1_000_000


def to_micros(amount: Decimal | int | str) -> int:
    """Decimal currency units → integer micro-units; finer fractions are rounded half-even."""
    return int((Decimal(amount) * MICROS).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_micros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).normalize() if micros % MICROS else Decimal(micros // MICROS)


def format_money(micros: int, currency: str) -> str:
    """'1,234.50 EUR': two decimals, more only when the amount has them (rates are often sub-cent)."""
    value = Decimal(micros) / MICROS
    places = max(2, -value.normalize().as_tuple().exponent) if value % Decimal("0.01") else 2
    return f"{value:,.{places}f} {currency}"
