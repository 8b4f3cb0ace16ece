"""Saving a card without a payment at the sandbox gateway: the adapter's setup calls (start, read, cancel),
the hosted card form in both languages (test cards, decline, 3-D Secure OTP), expiry, notifications, and
charging the token it issues off-session."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import (
    GatewayDeclined,
    GatewayError,
    PaymentNotFound,
    SetupRequest,
    SetupStatus,
    Status,
    saves_without_payment,
)
from jasa.payments.gateways.sandbox import SandboxGateway
from jasa.sandbox.models import SandboxFaults, SandboxPayment, SandboxToken, SandboxWebhook

pytestmark = pytest.mark.django_db


def _request(reference: str = "setup-1", **fields) -> SetupRequest:
    defaults = dict(reference=reference, currency="IDR", description="Acme", customer_name="Budi",
                    customer_email="budi@example.test", return_url="http://127.0.0.1:8000/portal/methods/setups/x/")
    return SetupRequest(**{**defaults, **fields})


def _page(ref: str, name: str = "checkout") -> str:
    return reverse(f"sandbox:{name}", args=[ref])


def _card(client, ref: str, number: str, expiry: str = "12/30"):
    return client.post(_page(ref, "card"), {"number": number, "expiry": expiry, "cvc": "123"}, follow=True)


def test_the_sandbox_saves_without_payment():
    assert saves_without_payment(SandboxGateway)


def test_start_opens_a_card_form_and_is_idempotent(gateway, merchant):
    started = gateway.start_setup(_request(expires_in_seconds=3600))
    assert started.status is SetupStatus.PENDING
    assert started.redirect_url.endswith(f"/sandbox/checkout/{started.gateway_reference}/")
    assert gateway.start_setup(_request()).gateway_reference == started.gateway_reference
    row = SandboxPayment.objects.get(reference="setup-1")
    assert (row.kind, row.method, row.gross_amount, row.merchant) == ("setup", "card", 0, merchant)
    # a payment's reference is not a setup's, nor the other way round
    with pytest.raises(PaymentNotFound):
        gateway.get_status("setup-1")
    with pytest.raises(PaymentNotFound):
        gateway.get_setup("pay-1")


def test_verified_card_becomes_a_token_that_charges_off_session(client, gateway, make_request):
    started = gateway.start_setup(_request())
    page = _card(client, started.gateway_reference, "4811 1111 1111 1114").content.decode()
    assert 'data-status="paid"' in page and 'id="result-title"' in page
    done = gateway.get_setup("setup-1")
    assert done.status is SetupStatus.SUCCEEDED and done.redirect_url == ""
    token = done.saved_method
    assert token.token.startswith("tok_") and (token.brand, token.masked) == ("visa", "481111******1114")
    assert (token.expiry_month, token.expiry_year) == (12, 2030)
    assert SandboxToken.objects.get(token=token.token).merchant.merchant_id == gateway.merchant_id
    charge = gateway.charge_saved(make_request(amount=75_000), token.token)
    assert charge.status is Status.SUCCEEDED and charge.captured == Money(75_000)


@pytest.mark.parametrize(("number", "expiry", "code"), [
    ("4911111111111113", "12/30", "card_declined"),
    ("4411111111111118", "12/30", "insufficient_funds"),
    ("4811111111111114", "01/24", "expired_card"),
])
def test_a_declined_card_fails_the_setup(client, gateway, number, expiry, code):
    started = gateway.start_setup(_request())
    _card(client, started.gateway_reference, number, expiry)
    failed = gateway.get_setup("setup-1")
    assert (failed.status, failed.failure_code, failed.saved_method) == (SetupStatus.FAILED, code, None)
    assert not SandboxToken.objects.filter(merchant__isnull=False).exists()


def test_3ds_otp_then_saved(client, gateway):
    started = gateway.start_setup(_request())
    page = _card(client, started.gateway_reference, "4000 0000 0000 3220").content.decode()
    assert 'id="otp"' in page
    assert gateway.get_setup("setup-1").status is SetupStatus.PENDING
    client.post(_page(started.gateway_reference, "otp"), {"otp": "000000"})
    assert gateway.get_setup("setup-1").status is SetupStatus.PENDING
    client.post(_page(started.gateway_reference, "otp"), {"otp": "112233"})
    done = gateway.get_setup("setup-1")
    assert done.status is SetupStatus.SUCCEEDED and done.saved_method.masked.endswith("3220")


def test_three_wrong_otps_fail_it(client, gateway):
    started = gateway.start_setup(_request())
    _card(client, started.gateway_reference, "4000000000003220")
    for _ in range(3):
        client.post(_page(started.gateway_reference, "otp"), {"otp": "000000"})
    assert gateway.get_setup("setup-1").failure_code == "authentication_failed"


@pytest.mark.parametrize(("lang", "title", "button", "nothing"), [
    ("en", "Save a card for", "Save card", "Nothing is charged now"),
    ("id", "Simpan kartu untuk", "Simpan kartu", "Tidak ada yang ditagih sekarang"),
])
def test_the_card_form_says_nothing_is_charged(client, gateway, workspace, lang, title, button, nothing):
    started = gateway.start_setup(_request(metadata={"workspace": str(workspace.pk)}))
    page = client.get(_page(started.gateway_reference), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert f"{title} {workspace.name}" in page and button in page and nothing in page
    assert 'id="amount"' not in page  # no amount: nothing is paid
    assert 'name="method"' not in page  # card only: no other method to choose


def test_only_a_card_can_be_saved(client, gateway):
    started = gateway.start_setup(_request())
    response = client.post(_page(started.gateway_reference, "choose_method"), {"method": "va_bca"}, follow=True)
    assert response.status_code == 200
    assert SandboxPayment.objects.get(reference="setup-1").method == "card"


def test_cancel_then_expiry(gateway, frozen_clock):
    gateway.start_setup(_request())
    assert gateway.cancel_setup("setup-1").status is SetupStatus.CANCELED
    gateway.start_setup(_request("setup-2", expires_in_seconds=600))
    clock.advance(dt.timedelta(minutes=11))
    assert gateway.get_setup("setup-2").status is SetupStatus.EXPIRED


def test_a_setup_notifies_as_a_setup(client, gateway):
    started = gateway.start_setup(_request(notification_url="http://127.0.0.1:9/webhooks/sandbox"))
    _card(client, started.gateway_reference, "4811111111111114")
    event = SandboxWebhook.objects.get(payment__reference="setup-1")
    assert event.event_type == "setup.succeeded"
    assert (event.data["reference"], event.data["status"]) == ("setup-1", "succeeded")


def test_faults_apply_to_setups(gateway, merchant):
    SandboxFaults.objects.create(merchant=merchant, api_fault=SandboxFaults.API_5XX, api_fault_calls=1)
    with pytest.raises(GatewayError):
        gateway.start_setup(_request())
    assert gateway.start_setup(_request()).status is SetupStatus.PENDING


def test_reference_of_a_payment_is_refused(gateway, make_request):
    gateway.create_checkout(make_request(reference="shared-1"))
    with pytest.raises(GatewayDeclined) as refused:
        gateway.start_setup(_request("shared-1"))
    assert refused.value.code == "reference_reused"
