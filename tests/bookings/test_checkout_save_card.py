"""The booking checkout asks, with the pay page's words, whether to keep the card: an unticked box offered
when the business's gateway can keep cards, naming the no-show balance when the offer charges it. Ticked, the
deposit is paid on the sandbox's hosted page by card, the card is saved with the moment of consent, and a
no-show's balance is then charged to it off-session. Unticked, or forged for a gateway that cannot keep
cards, nothing is saved."""

# ruff: noqa: F811 - pytest fixtures imported from other test modules
from __future__ import annotations

import pytest

from jasa.bookings.links import manage_path
from jasa.bookings.models import BookingStatus
from jasa.payments.models import PaymentIntent, SavedPaymentMethod
from tests.payments.test_portal_methods import assert_no_show_paid_by, nosavepay, sandbox_booking  # noqa: F401
from tests.sandbox.fixtures import merchant  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

BOX = 'name="save_method"'


def _checkout(client, booking, lang="en") -> str:
    response = client.get(manage_path(booking, "bookings:checkout"), HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


def test_the_box_is_offered_unticked_and_names_the_no_show_balance(client, sandbox_booking):
    booking = sandbox_booking(no_show_charges_balance=True)
    html = _checkout(client, booking)
    assert BOX in html and "checked" not in html.split('id="save-method"')[1].split(">")[0]
    assert html.index(BOX) < html.index("Pay deposit")  # inside the deposit's form, before its button
    assert f"Save this card so {booking.workspace.name} can charge it later" in html
    assert "to charge the remaining balance (IDR 400,000) if you miss the session" in html
    html_id = _checkout(client, booking, lang="id")
    assert "Simpan kartu ini" in html_id and "400.000" in html_id and "tidak hadir" in html_id


def test_without_the_no_show_policy_the_plain_consent_is_shown(client, sandbox_booking):
    html = _checkout(client, sandbox_booking(no_show_charges_balance=False))
    assert BOX in html and "miss the session" not in html and "such as renewals or balances" in html


def test_no_box_when_cards_are_off_or_the_gateway_cannot_keep_them(client, workspace, sandbox_booking, nosavepay):
    from jasa.payments.services_config import gateway_account_save

    booking = sandbox_booking(no_show_charges_balance=True)
    gateway_account_save(workspace=workspace, gateway="sandbox", enabled_methods=["va_bca", "qris"], is_default=True)
    assert BOX not in _checkout(client, booking)
    gateway_account_save(workspace=workspace, gateway="nosavepay", credentials={"key": "k"}, is_default=True)
    html = _checkout(client, booking)
    assert BOX not in html and "Pay deposit" in html


def test_unticked_pays_the_payment_started_with_the_hold(client, sandbox_booking):
    booking = sandbox_booking(no_show_charges_balance=True)
    held = booking.deposit_invoice.payments.get()
    response = client.post(manage_path(booking, "bookings:pay"))
    assert response.status_code == 302 and response["Location"] == held.checkout_url
    assert booking.deposit_invoice.payments.count() == 1 and not held.save_method


def test_a_forged_box_for_a_gateway_that_cannot_keep_cards_is_ignored(client, workspace, sandbox_booking, nosavepay):
    from jasa.payments.services_config import gateway_account_save

    booking = sandbox_booking(no_show_charges_balance=True)
    gateway_account_save(workspace=workspace, gateway="nosavepay", credentials={"key": "k"}, is_default=True)
    assert client.post(manage_path(booking, "bookings:pay"), {"save_method": "1"}).status_code == 302
    assert not PaymentIntent.objects.filter(invoice=booking.deposit_invoice, save_method=True).exists()


def test_ticked_the_card_paid_on_the_hosted_page_is_saved_and_pays_a_no_show(client, sandbox_booking,
                                                                            django_capture_on_commit_callbacks):
    from jasa.payments.services import payment_sync
    from jasa.sandbox.models import SandboxPayment

    booking = sandbox_booking(no_show_charges_balance=True)
    deposit = booking.deposit_invoice
    response = client.post(manage_path(booking, "bookings:pay"), {"save_method": "1"})
    payment = PaymentIntent.objects.get(invoice=deposit, save_method=True)
    assert payment.idempotency_key == f"booking:{booking.pk}:deposit:save" and payment.method == ""  # hosted
    assert response.status_code == 302 and response["Location"] == payment.checkout_url
    again = client.post(manage_path(booking, "bookings:pay"), {"save_method": "1"})
    assert again["Location"] == payment.checkout_url and deposit.payments.count() == 2  # hold's + this one

    page = response["Location"].split("127.0.0.1:8000", 1)[-1]
    client.post(page + "card/", {"number": "4811 1111 1111 1114", "expiry": "12/30", "cvc": "123"})
    assert SandboxPayment.objects.get(reference=payment.reference).token is not None
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)  # as the sandbox's notification would
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and payment.method == "card"
    saved = SavedPaymentMethod.objects.get(client=booking.client)
    assert saved.gateway == "sandbox" and saved.token.startswith("tok_") and saved.masked.endswith("1114")
    assert saved.consent_at == payment.created_at and saved.is_active
    assert_no_show_paid_by(booking, saved, django_capture_on_commit_callbacks)


def test_ticked_but_paid_by_va_saves_nothing(client, sandbox_booking, django_capture_on_commit_callbacks):
    """The consent is for a card: a client who then picks a virtual account on the hosted page keeps nothing."""
    from jasa.payments.services import payment_sync
    from jasa.sandbox import services as sandbox

    booking = sandbox_booking(no_show_charges_balance=True)
    client.post(manage_path(booking, "bookings:pay"), {"save_method": "1"})
    payment = PaymentIntent.objects.get(invoice=booking.deposit_invoice, save_method=True)
    row = sandbox.SandboxPayment.objects.get(reference=payment.reference)
    sandbox.payment_choose_method(row.pk, "va_bca")
    sandbox.payment_simulate(row.pk)  # the client pays the VA number
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert not SavedPaymentMethod.objects.filter(client=booking.client).exists()
