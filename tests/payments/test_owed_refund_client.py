"""A refund owed by bank transfer (VA and store payments cannot be refunded through the gateway): the client
gives their bank account on the invoice's refund page (the pay link's signed token, or the portal), and is
told by email (amount, why, the link); the owners and finance members are told a transfer is owed. A booking
cancellation's refund is announced by bookings' own message, so the client gets no second email for it."""

# ruff: noqa: F811 - pytest fixtures imported from tests.bookings.conftest
from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse

from jasa.core.money import Money
from jasa.notifications.models import OutboxMessage
from jasa.notifications.rendering import render
from jasa.payments.gateways.base import Method, Status
from jasa.payments.models import Refund, RefundStatus
from jasa.payments.services import payment_start, payment_sync, refund_record_manual, refund_request_manual
from jasa.payments.services_refund_notice import refund_account_url
from jasa.payments.views_client import pay_token
from tests.bookings.conftest import (  # noqa: F401 - fixtures
    gateway,
    hold,
    now,
    offer,
    offer_factory,
    pay,
    staff,
)

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": {
        "subject": "Acme owes you a refund by bank transfer",
        "owed": "Acme will refund {amount} of invoice {number} to you by bank transfer (your payment method "
                "cannot be refunded automatically).",
        "why": "Reason: Invoice {number} was paid twice; the second payment is returned.",
        "link": "We need your bank account to send it. Please give it here: {url}",
        "staff_subject": "Refund owed by bank transfer: {amount} to {client}",
        "staff_open": "Transfer the money, then record the transfer on the payment's page: {url}",
    },
    "id": {
        "subject": "Acme berutang pengembalian dana kepada Anda melalui transfer bank",
        "owed": "Acme akan mengembalikan {amount} dari tagihan {number} kepada Anda melalui transfer bank (metode "
                "pembayaran Anda tidak dapat dikembalikan secara otomatis).",
        "why": "Alasan: Tagihan {number} dibayar dua kali; pembayaran kedua dikembalikan.",
        "link": "Kami memerlukan rekening bank Anda untuk mengirimnya. Silakan isi di sini: {url}",
        "staff_subject": "Pengembalian dana terutang melalui transfer bank: {amount} kepada {client}",
        "staff_open": "Transfer dananya, lalu catat transfer itu di halaman pembayaran: {url}",
    },
}


def _paid(fakegw, payment):
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    return payment_sync(payment.pk)


@pytest.fixture
def acme(ws):
    ws.name = "Acme"
    ws.save()
    return ws


@pytest.fixture
def overpaid(acme, invoice_factory, client_factory, fakegw, django_capture_on_commit_callbacks):
    """A staff-made invoice paid twice: by card, then by VA (which the gateway cannot refund)."""

    def make(language="id", user=None):
        client = client_factory(acme, language=language, user=user, **({"email": user.email} if user else {}))
        invoice = invoice_factory(acme, 500_000, client=client)
        card = payment_start(invoice=invoice, idempotency_key="card", method=Method.CARD)
        va = payment_start(invoice=invoice, idempotency_key="va", method=Method.VA_BCA)
        fakegw.set_status(va.reference, Status.SUCCEEDED)
        with django_capture_on_commit_callbacks(execute=True):
            _paid(fakegw, card)
        refund = Refund.objects.get(payment=va)
        assert refund.is_owed
        return invoice, refund

    return make


def _page(invoice, token=None) -> str:
    path = reverse("payments:refund_account", args=[invoice.pk])
    return path + (f"?t={token}" if token is not None else "")


ACCOUNT = {"bank_name": "BCA", "account_number": "123 456 7890", "account_holder": "Sari Dewi"}


# --- the page ------------------------------------------------------------------------------------------


def test_page_with_the_token_shows_what_is_owed_and_why(overpaid):
    invoice, _refund = overpaid("en")
    response = HttpClient(HTTP_ACCEPT_LANGUAGE="en").get(_page(invoice, pay_token(invoice)))
    assert response.status_code == 200
    body = response.content.decode()
    assert Money(500_000).format("en") in body
    assert f"Invoice {invoice.number} was paid twice; the second payment is returned." in body
    assert 'id="refund-account-form"' in body and "csrfmiddlewaretoken" in body


@pytest.mark.parametrize("token", [None, "", "forged", "AAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_page_without_a_valid_token_does_not_exist(overpaid, token):
    invoice, _refund = overpaid()
    assert HttpClient().get(_page(invoice, token)).status_code == 404
    assert HttpClient().post(_page(invoice, token), ACCOUNT).status_code == 404


def test_another_invoices_token_does_not_open_it(overpaid, invoice_factory, acme):
    invoice, refund = overpaid()
    other = invoice_factory(acme, 100_000)
    assert HttpClient().get(_page(invoice, pay_token(other))).status_code == 404
    assert HttpClient().post(_page(invoice, pay_token(other)), ACCOUNT).status_code == 404
    refund.refresh_from_db()
    assert not refund.has_account


def test_saving_the_account_says_what_happens_next(overpaid, acme):
    acme.refund_transfer_days = 3
    acme.save()
    invoice, refund = overpaid("en")
    http = HttpClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    page = http.get(_page(invoice, pay_token(invoice)))
    response = http.post(_page(invoice, pay_token(invoice)),
                         {**ACCOUNT, "csrfmiddlewaretoken": page.cookies["csrftoken"].value}, follow=True)
    assert response.redirect_chain[-1][0] == _page(invoice, pay_token(invoice))
    refund.refresh_from_db()
    assert (refund.bank_name, refund.account_number, refund.account_holder) == ("BCA", "1234567890", "Sari Dewi")
    body = response.content.decode()
    assert "We will transfer your refund to this account" in body
    assert "What happens next: we transfer the money to this account" in body
    assert "BCA ****7890 (Sari Dewi)" in body and 'id="refund-account-form"' not in body
    assert "Expect it within 3 working days." in body


def test_posting_without_csrf_is_refused(overpaid):
    invoice, refund = overpaid()
    response = HttpClient(enforce_csrf_checks=True).post(_page(invoice, pay_token(invoice)), ACCOUNT)
    assert response.status_code == 403
    refund.refresh_from_db()
    assert not refund.has_account


@pytest.mark.parametrize("field,value", [("account_number", "1234"), ("account_number", "12345678901234567890123"),
                                         ("account_number", "12ab5678"), ("bank_name", ""), ("account_holder", "")])
def test_bad_input_is_refused_with_a_clear_message(overpaid, field, value):
    invoice, refund = overpaid("id")
    response = HttpClient(HTTP_ACCEPT_LANGUAGE="id").post(_page(invoice, pay_token(invoice)),
                                                          {**ACCOUNT, field: value})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Periksa rekening bank di bawah" in body  # the page says what to do, in Indonesian
    if field == "account_number" and len(value) < 40:
        assert "Nomor rekening terdiri dari 5 sampai 20 angka." in body
    refund.refresh_from_db()
    assert not refund.has_account


def test_nothing_owed_then_transferred(overpaid):
    invoice, refund = overpaid("en")
    refund_record_manual(payment=refund.payment, amount=refund.amount, reason=refund.reason,
                         transfer_reference="TRF-9", refund_key=refund.refund_key)
    http = HttpClient(HTTP_ACCEPT_LANGUAGE="en")
    body = http.get(_page(invoice, pay_token(invoice))).content.decode()
    assert "Your refund has been transferred" in body and "TRF-9" in body and "refund-account-form" not in body
    response = http.post(_page(invoice, pay_token(invoice)), ACCOUNT)
    assert response.status_code == 400
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED


# --- who may open it ------------------------------------------------------------------------------------


def test_the_signed_in_client_reaches_it_from_the_portal(overpaid, user_factory):
    user = user_factory()
    invoice, refund = overpaid("en", user=user)
    http = HttpClient(HTTP_ACCEPT_LANGUAGE="en")
    http.force_login(user)
    portal = http.get(reverse("web:portal")).content.decode()
    assert 'class="portal-refund-account"' in portal and _page(invoice) in portal
    assert http.get(_page(invoice)).status_code == 200
    assert http.post(_page(invoice), ACCOUNT).status_code == 302
    refund.refresh_from_db()
    assert refund.has_account


def test_another_client_does_not_see_it(overpaid, user_factory, client_factory, acme):
    invoice, _refund = overpaid()
    stranger = user_factory()
    client_factory(acme, user=stranger, email=stranger.email)
    http = HttpClient()
    http.force_login(stranger)
    assert http.get(_page(invoice)).status_code == 404
    assert 'class="portal-refund-account"' not in http.get(reverse("web:portal")).content.decode()


@pytest.mark.parametrize("role,sees", [("owner", True), ("admin", True), ("finance", True), ("staff", False)])
def test_staff_may_look_but_only_the_client_gives_the_account(overpaid, member_factory, acme, role, sees):
    invoice, refund = overpaid()
    member = acme.memberships.get(role="owner") if role == "owner" else member_factory(acme, role=role)
    http = HttpClient()
    http.force_login(member.user)
    assert http.get(_page(invoice)).status_code == (200 if sees else 404)
    assert http.post(_page(invoice), ACCOUNT).status_code == (403 if sees else 404)
    refund.refresh_from_db()
    assert not refund.has_account


# --- the emails -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "id"])
def test_an_overpayment_owed_by_va_emails_the_client_and_the_finance_people(overpaid, member_factory, acme,
                                                                            language, user_factory):
    finance = member_factory(acme, role="finance", user=user_factory(email="keu@example.test"))
    finance.user.language = language
    finance.user.save()
    invoice, refund = overpaid(language)
    texts, amount = TEXTS[language], Money(500_000).format(language)
    [message] = OutboxMessage.objects.filter(template="payments.refund_owed")
    assert message.recipient == invoice.client.email and message.language == language
    email = render(message)
    assert email.subject == texts["subject"]
    url = refund_account_url(invoice)
    for part in (texts["owed"].format(amount=amount, number=invoice.number),
                 texts["why"].format(number=invoice.number), texts["link"].format(url=url)):
        assert part in email.text, part
    assert f'href="{url}"' in email.html
    staff = render(OutboxMessage.objects.get(template="payments.refund_owed_staff", recipient="keu@example.test"))
    assert staff.subject == texts["staff_subject"].format(amount=amount, client=invoice.client.name)
    url = settings.SITE_URL + reverse("payments:detail", args=[acme.slug, refund.payment_id])
    assert texts["staff_open"].format(url=url) in staff.text and f'href="{url}"' in staff.html


def test_staff_recipients_are_the_owners_and_finance_members(overpaid, member_factory, acme):
    finance = member_factory(acme, role="finance")
    admin = member_factory(acme, role="admin")
    plain = member_factory(acme, role="staff")
    gone = member_factory(acme, role="finance")
    gone.is_active = False
    gone.save()
    owner = acme.memberships.get(role="owner")
    _invoice, refund = overpaid()
    recipients = set(OutboxMessage.objects.filter(template="payments.refund_owed_staff")
                     .values_list("recipient", flat=True))
    assert recipients == {owner.user.email, finance.user.email}
    assert admin.user.email not in recipients and plain.user.email not in recipients
    # once per refund and person, however often the owed refund is recorded again
    refund_request_manual(payment=refund.payment, amount=refund.amount, reason="again", refund_key=refund.refund_key)
    assert OutboxMessage.objects.filter(template="payments.refund_owed_staff").count() == 2
    assert OutboxMessage.objects.filter(template="payments.refund_owed").count() == 1


def test_a_booking_cancellation_refund_is_announced_once(hold, pay, workspace,
                                                         django_capture_on_commit_callbacks):
    from jasa.bookings.services import booking_cancel
    from tests.bookings.conftest import FRI_9

    booking = pay(hold(start=FRI_9, language="en"), method=Method.VA_BCA)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_cancel(booking=booking, by="client")
    assert booking.refund_owed_amount > 0
    to_client = OutboxMessage.objects.filter(recipient=booking.client.email, channel="email")
    assert not to_client.filter(template="payments.refund_owed").exists()  # no generic email besides …
    assert to_client.filter(template="bookings.cancelled").count() == 1  # … bookings' own, with the link
    owner = workspace.memberships.get(role="owner")
    assert OutboxMessage.objects.filter(template="payments.refund_owed_staff", recipient=owner.user.email).exists()
