"""Money: integer minor units plus an ISO 4217 currency. No floats, ever.

The exponent table follows the gateways, not ISO alone: IDR has exponent 0 because
Midtrans, Xendit and Stripe all take whole rupiah (``gross_amount=500000``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

# Minor-unit exponents as the gateways use them.
EXPONENTS: dict[str, int] = {
    "IDR": 0,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "MYR": 2,
    "AUD": 2,
    "PHP": 2,
    "THB": 2,
}
CURRENCIES = tuple(sorted(EXPONENTS))


class CurrencyMismatch(ValueError):
    pass


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}; jasa supports {', '.join(CURRENCIES)}")


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int  # minor units
    currency: str = "IDR"

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money.amount must be an int of minor units, got {type(self.amount).__name__}")
        exponent(self.currency)

    # --- construction -------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = "IDR") -> Money:
        return cls(0, currency)

    @classmethod
    def from_major(cls, value: str | int | Decimal, currency: str = "IDR") -> Money:
        """Parse a major-unit amount ("1500000", "12.50"); refuses fractions of a minor unit."""
        if isinstance(value, float):
            raise TypeError("Money.from_major does not take floats")
        dec = Decimal(str(value).replace("_", "").strip())
        scaled = dec.scaleb(exponent(currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more decimals than {currency} allows")
        return cls(int(scaled), currency)

    # --- arithmetic ---------------------------------------------------------------
    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._check(other).amount, self.currency)

    def __radd__(self, other: object) -> Money:
        # lets sum() start from 0
        if other == 0:
            return self
        if not isinstance(other, Money):
            return NotImplemented
        return self.__add__(other)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int; use percent() or allocate()")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def percent(self, rate: Decimal | int | str | Fraction) -> Money:
        """``rate`` percent of this amount, rounded half up to a minor unit (for fees and tax)."""
        frac = Fraction(Decimal(str(rate))) if not isinstance(rate, Fraction) else rate
        return Money(_round_half_up(Fraction(self.amount) * frac / 100), self.currency)

    def scale(self, ratio: Fraction) -> Money:
        return Money(_round_half_up(Fraction(self.amount) * ratio), self.currency)

    # --- splitting ----------------------------------------------------------------
    def allocate(self, ratios: Sequence[int | Decimal | str | Fraction]) -> list[Money]:
        """Split into parts proportional to ``ratios``; parts always sum exactly to the whole.

        Each part but the last is rounded down; the remainder goes on the last part
        (30/40/30 of Rp 1.000.001 -> 300.000 / 400.000 / 300.001).
        """
        if not ratios:
            raise ValueError("allocate needs at least one ratio")
        fracs = [r if isinstance(r, Fraction) else Fraction(Decimal(str(r))) for r in ratios]
        if any(f < 0 for f in fracs):
            raise ValueError("ratios must not be negative")
        total = sum(fracs, Fraction(0))
        if total == 0:
            raise ValueError("ratios must not all be zero")
        parts = [int(Fraction(self.amount) * f / total // 1) for f in fracs[:-1]]
        parts.append(self.amount - sum(parts))
        return [Money(p, self.currency) for p in parts]

    def split_percent(self, percents: Sequence[int | Decimal | str]) -> list[Money]:
        """Like allocate, but the percentages must add up to 100."""
        total = sum((Decimal(str(p)) for p in percents), Decimal(0))
        if total != 100:
            raise ValueError(f"percentages must add up to 100, not {total}")
        return self.allocate(percents)

    # --- presentation -------------------------------------------------------------
    @property
    def major(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def format(self, locale: str = "id") -> str:
        from babel.numbers import format_currency

        loc = {"id": "id_ID", "en": "en_US"}.get(locale, locale)
        if self.currency == "IDR" and loc.startswith("en"):
            # English readers of Indonesian invoices expect "IDR 1,500,000".
            return f"IDR {format_currency(self.major, 'IDR', format='#,##0', locale=loc, currency_digits=False)}"
        text = format_currency(
            self.major,
            self.currency,
            locale=loc,
            currency_digits=False,
            format=None if exponent(self.currency) else "¤ #,##0",
        )
        return text.replace("\xa0", " ")

    def __str__(self) -> str:
        return self.format("id")

    def to_json(self) -> dict[str, object]:
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Money:
        amount = data.get("amount")
        currency = data.get("currency", "IDR")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ValueError("amount must be an integer of minor units")
        return cls(amount, str(currency))


def _round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves away from zero, in exact integer arithmetic."""
    n, d = value.numerator, value.denominator
    if n >= 0:
        return (2 * n + d) // (2 * d)
    return -((-2 * n + d) // (2 * d))


def total(items: Iterable[Money], currency: str = "IDR") -> Money:
    result = Money.zero(currency)
    for item in items:
        result = result + item
    return result
