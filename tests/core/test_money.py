from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jasa.core.money import CurrencyMismatch, Money


def test_formatting_in_both_languages():
    assert Money(1_500_000).format("id") == "Rp 1.500.000"
    assert Money(1_500_000).format("en") == "IDR 1,500,000"
    assert Money(1234, "USD").format("en") == "$12.34"


def test_idr_has_no_minor_units():
    assert Money.from_major("1500000").amount == 1_500_000
    assert Money.from_major("12.50", "USD").amount == 1250
    with pytest.raises(ValueError):
        Money.from_major("10.5", "IDR")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        Money(10.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.from_major(10.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(100) * 1.5  # type: ignore[operator]


def test_currencies_do_not_mix():
    with pytest.raises(CurrencyMismatch):
        Money(1, "IDR") + Money(1, "USD")


def test_default_milestone_split_puts_remainder_last():
    parts = Money(1_000_001).split_percent([30, 40, 30])
    assert [p.amount for p in parts] == [300_000, 400_000, 300_001]


def test_deposit_twenty_percent():
    deposit, balance = Money(500_000).allocate([20, 80])
    assert (deposit.amount, balance.amount) == (100_000, 400_000)


def test_percent_rounds_half_up():
    assert Money(100_000).percent(Decimal("2.9")).amount == 2_900
    assert Money(5).percent(50).amount == 3
    assert Money(-5).percent(50).amount == -3


def test_split_percent_must_total_100():
    with pytest.raises(ValueError):
        Money(100).split_percent([30, 30])


amounts = st.integers(min_value=0, max_value=10**15)
ratios = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(lambda r: sum(r) > 0)


@given(amount=amounts, parts=ratios)
def test_allocation_always_sums_to_the_whole(amount, parts):
    result = Money(amount).allocate(parts)
    assert sum(p.amount for p in result) == amount
    assert len(result) == len(parts)
    assert all(p.amount >= 0 for p in result)


@given(amount=amounts, parts=ratios)
def test_allocation_is_fair_within_one_unit_except_last(amount, parts):
    total = sum(parts)
    result = Money(amount).allocate(parts)
    for money, ratio in zip(result[:-1], parts[:-1], strict=True):
        exact = Fraction(amount * ratio, total)
        assert exact - 1 < money.amount <= exact


@given(a=amounts, b=amounts)
def test_addition_and_subtraction_roundtrip(a, b):
    assert (Money(a) + Money(b) - Money(b)).amount == a


@given(amount=amounts)
def test_json_roundtrip(amount):
    m = Money(amount, "IDR")
    assert Money.from_json(m.to_json()) == m
