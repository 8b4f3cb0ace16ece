"""The demo workspace's consultation: Rp 500.000, 20 % deposit, weekdays 09:00–17:00 Asia/Jakarta."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jasa.core.money import Money

pytestmark = pytest.mark.django_db


def test_demo_offer_is_bookable_on_weekdays(frozen_clock):
    from jasa.bookings.availability import available_slots
    from jasa.catalog.models import ConsultationOffer
    from jasa.core.demo import demo_load

    demo_load(progress=lambda _msg: None)
    offer = ConsultationOffer.objects.get(workspace__slug="demo", slug="konsultasi-60-menit")
    assert offer.name_id == "Konsultasi 60 menit"
    assert offer.price == Money(500_000) and offer.deposit == Money(100_000)
    assert offer.staff.count() >= 1
    jkt = ZoneInfo("Asia/Jakarta")
    slots = available_slots(offer, dt.date(2026, 12, 7), dt.date(2026, 12, 13), jkt)  # Monday to Sunday
    local = [s.start.astimezone(jkt) for s in slots]
    assert {s.weekday() for s in local} == {0, 1, 2, 3, 4}
    assert min(s.time() for s in local) == dt.time(9) and max(s.time() for s in local) == dt.time(16)
    demo_load(progress=lambda _msg: None)  # loading again adds nothing
    assert ConsultationOffer.objects.filter(workspace__slug="demo").count() == 1
