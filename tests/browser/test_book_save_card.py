"""In Chromium: a client books the demo consultation (whose offer charges the balance on a no-show), ticks
"save this card" at the checkout, pays the deposit by card on the sandbox's hosted page, and the booking is
confirmed with the card kept for the no-show balance; the staff then mark a no-show and the balance is
charged to that card."""

# ruff: noqa: F811 - fixtures imported from other browser tests

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.test_book_consultation import book_slot, demo, wait_until_confirmed  # noqa: F401 - demo
from tests.browser.test_pay_invoice import _type_card


@pytest.mark.browser
def test_book_tick_save_card_pay_by_card_then_no_show_is_charged(demo, live_server, page):
    from jasa.bookings.demo import OFFER_SLUG
    from jasa.bookings.models import Booking
    from jasa.bookings.services import booking_mark_no_show
    from jasa.catalog.models import ConsultationOffer
    from jasa.core import clock
    from jasa.payments.models import SavedPaymentMethod

    ConsultationOffer.objects.filter(slug=OFFER_SLUG).update(no_show_charges_balance=True)
    page.goto(f"{live_server.url}/demo/book/{OFFER_SLUG}/")
    book_slot(page)

    # the checkout: the box is unticked and says what the card would be charged for
    box = page.locator("#save-method")
    expect(box).not_to_be_checked()
    expect(page.locator("#save-card")).to_contain_text("400.000")
    box.check()
    page.click('form[action$="/pay/"] button[type="submit"]')

    # the sandbox's hosted page: the client picks card there
    page.wait_for_url("**/sandbox/checkout/**")
    page.click('button[data-method="card"]')
    _type_card(page, "4811 1111 1111 1114")
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    wait_until_confirmed(page)

    booking = Booking.objects.get(client__email="rina@example.test")
    saved = SavedPaymentMethod.objects.get(client=booking.client)
    paid = booking.deposit_invoice.payments.get(status="succeeded")
    assert paid.save_method and saved.is_active and saved.consent_at == paid.created_at

    clock.advance(booking.start_at + dt.timedelta(minutes=20) - clock.now())
    booking = booking_mark_no_show(booking=booking)  # its on-commit charge runs: no test transaction here
    balance = booking.balance_invoice
    balance.refresh_from_db()
    assert balance.status == "paid" and balance.payments.get().saved_method_id == saved.pk
