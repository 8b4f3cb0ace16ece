"""Choosing on the payment page with "save this card" ticked, end to end through the pay page and the sandbox's
hosted checkout: the consent reaches the gateway, which keeps a card only when the client pays by card there
(a virtual account keeps nothing); without the tick nothing is kept; a gateway whose cards cannot be kept
gets no consent even from a forged box.
"""

# ruff: noqa: F811 - pytest fixtures imported from tests.sandbox.fixtures
from __future__ import annotations

import pytest
from django.urls import reverse

from jasa.payments.gateways.base import Status
from jasa.payments.models import PaymentIntent, SavedPaymentMethod
from jasa.payments.views_client import pay_token
from jasa.sandbox import services as sandbox
from jasa.sandbox.models import SandboxPayment
from tests.sandbox.fixtures import merchant  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(workspace, merchant, invoice_factory, client_factory):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="sandbox", credentials=merchant.credentials, is_default=True)
    buyer = client_factory(workspace, email="budi@example.test")
    return invoice_factory(workspace, 1_500_000, client=buyer)


def _pay_path(invoice) -> str:
    return reverse("payments:pay", args=[invoice.pk]) + f"?t={pay_token(invoice)}"


def _hosted(client, invoice, *, ticked: bool) -> tuple[PaymentIntent, str]:
    """Pick "choose on the payment page" (with or without the box) and follow to the sandbox's checkout."""
    page = client.get(_pay_path(invoice))
    assert 'name="save_method"' in page.content.decode()  # the box is offered with the hosted choice
    data = {"method": "", "attempt": page.context["attempt"]} | ({"save_method": "1"} if ticked else {})
    response = client.post(_pay_path(invoice), data)
    assert response.status_code == 302 and "/sandbox/checkout/sbx_" in response["Location"]
    payment = PaymentIntent.objects.get(invoice=invoice)
    return payment, response["Location"].split("127.0.0.1:8000", 1)[-1]


def _finish(client, invoice, payment) -> PaymentIntent:
    client.get(reverse("payments:pay_status", args=[invoice.pk, payment.pk]) + f"?t={pay_token(invoice)}")
    payment.refresh_from_db()
    return payment


def test_ticked_box_with_the_gateways_choice_keeps_the_card_paid_there(client, invoice,
                                                                       django_capture_on_commit_callbacks):
    payment, checkout = _hosted(client, invoice, ticked=True)
    assert payment.method in ("", None) and payment.save_method
    assert SandboxPayment.objects.get(reference=payment.reference).save_method  # the consent reached the gateway
    client.post(checkout + "method/", {"method": "card"})
    client.post(checkout + "card/", {"number": "4811 1111 1111 1114", "expiry": "12/30", "cvc": "123"})
    assert SandboxPayment.objects.get(reference=payment.reference).token is not None
    with django_capture_on_commit_callbacks(execute=True):
        payment = _finish(client, invoice, payment)
    assert payment.status == Status.SUCCEEDED and payment.method == "card"
    saved = SavedPaymentMethod.objects.get(client=invoice.client)
    assert saved.token.startswith("tok_") and saved.masked.endswith("1114") and saved.consent_at == payment.created_at


def test_ticked_box_keeps_nothing_when_the_client_pays_by_virtual_account(client, invoice,
                                                                           django_capture_on_commit_callbacks):
    payment, checkout = _hosted(client, invoice, ticked=True)
    client.post(checkout + "method/", {"method": "va_bca"})
    sandbox.payment_simulate(SandboxPayment.objects.get(reference=payment.reference).pk)
    assert SandboxPayment.objects.get(reference=payment.reference).token is None
    with django_capture_on_commit_callbacks(execute=True):
        payment = _finish(client, invoice, payment)
    assert payment.status == Status.SUCCEEDED and payment.method == "va_bca"
    assert not SavedPaymentMethod.objects.filter(client=invoice.client).exists()


def test_unticked_box_keeps_no_card(client, invoice, django_capture_on_commit_callbacks):
    payment, checkout = _hosted(client, invoice, ticked=False)
    assert not payment.save_method
    client.post(checkout + "method/", {"method": "card"})
    client.post(checkout + "card/", {"number": "4811 1111 1111 1114", "expiry": "12/30", "cvc": "123"})
    assert SandboxPayment.objects.get(reference=payment.reference).token is None
    with django_capture_on_commit_callbacks(execute=True):
        payment = _finish(client, invoice, payment)
    assert payment.status == Status.SUCCEEDED
    assert not SavedPaymentMethod.objects.filter(client=invoice.client).exists()


def test_a_forged_box_is_ignored_when_card_is_not_offered(client, invoice, workspace, merchant):
    """Card switched off for this business: the hosted page cannot take a card, so no consent is passed on."""
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="sandbox", credentials=merchant.credentials,
                         enabled_methods=["va_bca", "qris"], is_default=True)
    assert 'name="save_method"' not in client.get(_pay_path(invoice)).content.decode()
    response = client.post(_pay_path(invoice), {"method": "", "save_method": "1", "attempt": "forged"})
    assert response.status_code == 302
    assert PaymentIntent.objects.get(invoice=invoice).save_method is False


def test_going_back_and_ticking_the_box_starts_another_payment(client, invoice):
    page = client.get(_pay_path(invoice))
    attempt = page.context["attempt"]
    client.post(_pay_path(invoice), {"method": "", "attempt": attempt})
    client.post(_pay_path(invoice), {"method": "", "attempt": attempt})  # a double click: the same payment
    assert PaymentIntent.objects.filter(invoice=invoice).count() == 1
    client.post(_pay_path(invoice), {"method": "", "attempt": attempt, "save_method": "1"})
    assert sorted(PaymentIntent.objects.filter(invoice=invoice).values_list("save_method", flat=True)) == [False, True]
