"""A no-show's balance is charged only to a saved card that is still valid: an expired card is not tried,
the balance invoice stays open, and the client gets the balance notice with its pay link instead. A card
that pays it spares the client that notice."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.bookings.services import booking_charge_balance_saved, booking_mark_no_show
from jasa.core import clock
from jasa.notifications.models import OutboxMessage
from jasa.payments.models import SavedPaymentMethod
from jasa.payments.services_methods import usable_saved_method
from tests.bookings.conftest import THU_9

pytestmark = pytest.mark.django_db


def _card(booking, token: str, *, month: int, year: int, minutes_ago: int = 0) -> SavedPaymentMethod:
    return SavedPaymentMethod.objects.create(
        workspace=booking.workspace, client=booking.client, gateway="testpay", token=token, method="card",
        brand="visa", masked="481111******1114", expiry_month=month, expiry_year=year,
        consent_at=clock.now() - dt.timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def no_show(hold, pay, offer_factory, django_capture_on_commit_callbacks):
    """A paid booking of an offer that charges the balance on a no-show; ``mark()`` records the no-show."""
    booking = pay(hold(offer=offer_factory(name_id="Ketat", no_show_charges_balance=True)))

    def mark():
        clock.advance(THU_9 + dt.timedelta(minutes=20) - clock.now())
        with django_capture_on_commit_callbacks(execute=True):
            marked = booking_mark_no_show(booking=booking)
        marked.balance_invoice.refresh_from_db()
        return marked

    return booking, mark


def test_an_expired_card_is_not_charged_and_the_client_is_sent_the_pay_link(no_show, client):
    from django.conf import settings

    booking, mark = no_show
    _card(booking, "tok-ok", month=11, year=2026)  # the clock is in December 2026
    booking = mark()
    invoice = booking.balance_invoice
    assert invoice.status == "open" and invoice.payments.count() == 0
    notice = OutboxMessage.objects.get(template="bookings.balance_due", channel="email",
                                      dedupe_key__contains=str(booking.pk))
    assert notice.recipient == booking.client.email
    link = notice.context["pay_url"]
    assert link.startswith(settings.SITE_URL) and str(invoice.pk) in link
    page = client.get(link.removeprefix(settings.SITE_URL))  # the guest, not logged in, opens it
    assert page.status_code == 200 and 'id="pay-form"' in page.content.decode()
    assert booking_charge_balance_saved(booking_id=booking.pk) is False  # a repeat does not try it either


def test_a_card_valid_through_this_month_is_charged(no_show):
    booking, mark = no_show
    saved = _card(booking, "tok-ok", month=12, year=26)  # MM/YY as printed: valid through 31-12-2026
    booking = mark()
    payment = booking.balance_invoice.payments.get()
    assert payment.saved_method_id == saved.pk and payment.off_session
    assert booking.balance_invoice.status == "paid"
    assert not OutboxMessage.objects.filter(template="bookings.balance_due").exists()  # no "please pay" for it


def test_an_older_valid_card_is_used_when_the_latest_has_expired(no_show):
    booking, mark = no_show
    older = _card(booking, "tok-ok", month=12, year=2030, minutes_ago=60)
    _card(booking, "tok-ok-2", month=1, year=2025)
    assert usable_saved_method(workspace_id=booking.workspace_id, client_id=booking.client_id) == older
    booking = mark()
    assert booking.balance_invoice.payments.get().saved_method_id == older.pk


def test_a_removed_card_is_not_usable(no_show):
    booking, _mark = no_show
    _card(booking, "tok-ok", month=12, year=2030)
    SavedPaymentMethod.objects.update(is_active=False)
    assert usable_saved_method(workspace_id=booking.workspace_id, client_id=booking.client_id) is None
