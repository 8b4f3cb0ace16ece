"""Consultation offers: deposit rules, unique slugs per workspace, validation through the services."""

from __future__ import annotations

import pytest

from jasa.catalog.services import offer_create, offer_update
from jasa.core import audit
from jasa.core.errors import ValidationError
from jasa.core.money import Money

pytestmark = pytest.mark.django_db


def _offer(workspace, **fields):
    defaults = {"name_id": "Konsultasi 60 menit", "duration_minutes": 60, "price_amount": 500_000}
    return offer_create(workspace=workspace, **{**defaults, **fields})


@pytest.mark.parametrize("fields, deposit", [
    ({}, 100_000),  # 20 % by default
    ({"deposit_percent": 33}, 165_000),
    ({"deposit_kind": "fixed", "deposit_fixed_amount": 150_000}, 150_000),
    ({"deposit_kind": "fixed", "deposit_fixed_amount": 900_000}, 500_000),  # never more than the price
    ({"deposit_kind": "full"}, 500_000),
])
def test_deposit_and_balance_always_add_up(workspace, fields, deposit):
    offer = _offer(workspace, **fields)
    assert offer.deposit == Money(deposit)
    assert offer.deposit + offer.balance == offer.price


def test_odd_prices_split_exactly(workspace):
    offer = _offer(workspace, price_amount=333_333, deposit_percent=20)
    assert offer.deposit + offer.balance == Money(333_333)


def test_slugs_are_unique_per_workspace(workspace, workspace_factory):
    assert _offer(workspace).slug == "konsultasi-60-menit"
    assert _offer(workspace).slug == "konsultasi-60-menit-2"
    assert _offer(workspace_factory(slug="lain")).slug == "konsultasi-60-menit"


def test_invalid_values_are_field_errors(workspace):
    with pytest.raises(ValidationError) as exc:
        _offer(workspace, duration_minutes=2)
    assert exc.value.field == "duration_minutes"
    with pytest.raises(ValidationError):
        _offer(workspace, deposit_percent=120)
    with pytest.raises(ValidationError):
        _offer(workspace, unknown_field=1)


def test_update_is_audited_and_staff_stay_in_the_workspace(workspace, workspace_factory, member_factory):
    offer = _offer(workspace)
    mine = member_factory(workspace)
    theirs = member_factory(workspace_factory(slug="lain"))
    offer = offer_update(offer=offer, price_amount=600_000, staff=[mine, theirs])
    assert offer.price == Money(600_000)
    assert list(offer.staff.all()) == [mine]
    entry = audit.for_object(offer).filter(action="offer.updated").get()
    assert entry.before == {"price_amount": 500_000} and entry.after == {"price_amount": 600_000}


def test_reminders_default_to_24h_and_1h(workspace):
    assert _offer(workspace).reminders == [1440, 60]
    assert _offer(workspace, reminder_offsets_minutes=[120]).reminders == [120]
