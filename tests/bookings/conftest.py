"""Fixtures of the bookings tests: a workspace whose staff member works weekdays 09:00–17:00 in Jakarta,
a 60-minute offer (Rp 500.000, 20 % deposit) and the in-test payment gateway ("testpay", a fake of an
outside service) as the workspace's gateway. The clock is frozen on Wednesday 2 December 2026, 10:00 WIB.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.payments.conftest import fakegw  # noqa: F401  (the in-test gateway fixture)

JKT = ZoneInfo("Asia/Jakarta")
# Thursday 3 December 2026, 09:00 and 10:00 WIB: free slots of the fixture's staff member.
THU_9 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=JKT)
THU_10 = dt.datetime(2026, 12, 3, 10, 0, tzinfo=JKT)
FRI_9 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=JKT)


def working_week(workspace, membership, start=dt.time(9), end=dt.time(17)):
    from jasa.bookings.models_availability import WorkingHours

    WorkingHours.objects.bulk_create([
        WorkingHours(workspace=workspace, membership=membership, weekday=d, start_time=start, end_time=end)
        for d in range(5)
    ])


@pytest.fixture
def staff(workspace, member_factory):
    membership = member_factory(workspace, role="staff")
    working_week(workspace, membership)
    return membership


@pytest.fixture
def offer_factory(workspace, staff):
    from jasa.catalog.services import offer_create

    def make(**fields):
        members = fields.pop("staff", [staff])
        defaults = {"name_id": "Konsultasi 60 menit", "name_en": "60-minute consultation", "duration_minutes": 60,
                    "price_amount": 500_000, "deposit_percent": 20, "slot_interval_minutes": 60}
        return offer_create(workspace=fields.pop("workspace", workspace), staff=members, **{**defaults, **fields})

    return make


@pytest.fixture
def offer(offer_factory):
    return offer_factory()


@pytest.fixture
def gateway(workspace, fakegw):  # noqa: F811
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="testpay", credentials={"key": "k"}, is_default=True)
    return fakegw


@pytest.fixture
def now(frozen_clock):
    return frozen_clock.now()


@pytest.fixture
def hold(offer, gateway, now):
    """Hold a slot for a client (defaults: the offer, Thursday 09:00, a new email each time)."""
    from jasa.bookings.services import booking_hold

    counter = {"n": 0}

    def make(start=THU_9, offer=offer, **kwargs):
        counter["n"] += 1
        kwargs.setdefault("client_name", f"Klien {counter['n']}")
        kwargs.setdefault("client_email", f"klien{counter['n']}@example.test")
        kwargs.setdefault("client_phone", "0812-3456-7890")
        return booking_hold(offer=offer, start=start, **kwargs)

    return make


@pytest.fixture
def pay(gateway, django_capture_on_commit_callbacks):
    """The client pays the deposit on the gateway's page; the core syncs it (as after a webhook)."""
    from jasa.payments.gateways.base import Method, Status
    from jasa.payments.services import payment_sync

    def do(booking, method=Method.CARD, status=Status.SUCCEEDED):
        payment = booking.deposit_invoice.payments.order_by("created_at").first()
        gateway.set_status(payment.reference, status, method=method)
        with django_capture_on_commit_callbacks(execute=True):
            payment_sync(payment.pk)
        booking.refresh_from_db()
        return booking

    return do


@pytest.fixture
def run_due(django_capture_on_commit_callbacks):
    """Run every job that is due now (as the periodic sweep and the worker would)."""
    from jasa.core import jobs

    def do() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return jobs.sweep(enqueue=jobs.run)

    return do
