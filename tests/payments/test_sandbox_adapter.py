# ruff: noqa: F811 - pytest fixtures imported from tests.sandbox.fixtures
"""Contract tests of the sandbox adapter: every method, every test card, expiry, refunds, saved tokens, faults."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.core import clock, jobs
from jasa.core.money import Money
from jasa.payments.gateways.base import (
    GatewayDeclined,
    GatewayError,
    Method,
    PaymentNotFound,
    Status,
    gateway_class,
)
from jasa.sandbox import methods, services
from jasa.sandbox.faults import ApiError
from jasa.sandbox.models import SandboxFaults, SandboxPayment
from tests.sandbox.fixtures import gateway, make_request, merchant  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _pay_card(reference: str, number: str, expiry=(12, 2030)):
    payment = SandboxPayment.objects.get(reference=reference)
    return services.payment_pay_card(payment.pk, number=number, exp_month=expiry[0], exp_year=expiry[1], cvc="123")


def test_registered_and_status_table_complete():
    from jasa.payments.gateways.sandbox import STATUS_MAP, SandboxGateway

    assert gateway_class("sandbox") is SandboxGateway
    assert set(STATUS_MAP) == {s for s, _ in SandboxPayment.STATUSES}
    assert set(SandboxGateway.methods) == set(Method)
    assert SandboxGateway.methods[Method.CARD].off_session and SandboxGateway.methods[Method.CARD].save_for_recurring
    assert not SandboxGateway.methods[Method.VA_BCA].refund and not SandboxGateway.methods[Method.ALFAMART].refund


def test_checkout_is_idempotent_by_reference(gateway, make_request):
    request = make_request()
    first = gateway.create_checkout(request)
    assert first.status is Status.REQUIRES_ACTION
    assert first.next_action.kind == "redirect"
    assert first.next_action.url.endswith(f"/sandbox/checkout/{first.gateway_reference}/")
    again = gateway.create_checkout(request)
    assert again.gateway_reference == first.gateway_reference
    assert SandboxPayment.objects.count() == 1
    with pytest.raises(GatewayDeclined) as exc:
        gateway.create_checkout(make_request(amount=999, reference=request.reference))
    assert exc.value.code == "reference_reused"


@pytest.mark.parametrize("method,prefix,length", [
    (Method.VA_BCA, "12345", 16), (Method.VA_BNI, "8808", 16), (Method.VA_BRI, "26215", 15),
    (Method.VA_MANDIRI, "", 12), (Method.VA_PERMATA, "8778", 16),
])
def test_virtual_accounts(gateway, make_request, method, prefix, length):
    result = gateway.create_direct(make_request(method=method))
    action = result.next_action
    assert result.status is Status.REQUIRES_ACTION and result.method is method
    assert action.kind == "va_number" and action.bank == method.value.removeprefix("va_")
    assert action.va_number.startswith(prefix) and len(action.va_number) == length and action.va_number.isdigit()
    assert action.biller_code == ("70012" if method is Method.VA_MANDIRI else "")
    expires = dt.datetime.fromisoformat(action.expires_at)
    assert dt.timedelta(hours=23, minutes=59) < expires - clock.now() <= dt.timedelta(hours=24)


def test_qris_payload_has_valid_crc_and_a_real_png(gateway, make_request, client):
    result = gateway.create_direct(make_request(amount=25_000, method=Method.QRIS))
    qr = result.next_action.qr_string
    assert result.next_action.kind == "qr" and qr.startswith("000201010212")
    assert "5405" + "25000" in qr and "ID.CO.QRIS.WWW" in qr
    assert qr[-4:] == f"{methods.crc16_ccitt(qr[:-4].encode()):04X}"
    assert "/sandbox/checkout/" in result.next_action.url
    png = client.get(result.raw["qr_url"].split("127.0.0.1:8000", 1)[-1])
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("method", [Method.GOPAY, Method.OVO, Method.DANA, Method.SHOPEEPAY])
@pytest.mark.parametrize("approve,status", [(True, Status.SUCCEEDED), (False, Status.FAILED)])
def test_ewallets_approve_or_decline(gateway, make_request, method, approve, status):
    request = make_request(method=method)
    result = gateway.create_direct(request)
    assert result.next_action.kind == "deeplink" and "/sandbox/checkout/" in result.next_action.url
    services.payment_ewallet_decide(SandboxPayment.objects.get(reference=request.reference).pk, approve=approve)
    after = gateway.get_status(request.reference)
    assert after.status is status
    assert after.failure_code == ("" if approve else "ewallet_declined")


@pytest.mark.parametrize("method,prefix", [(Method.INDOMARET, ""), (Method.ALFAMART, "ALF")])
def test_store_codes_and_simulated_payment(gateway, make_request, method, prefix):
    request = make_request(method=method)
    result = gateway.create_direct(request)
    assert result.next_action.kind == "store_code" and result.next_action.store_code.startswith(prefix)
    services.payment_simulate(SandboxPayment.objects.get(reference=request.reference).pk)
    paid = gateway.get_status(request.reference)
    assert paid.status is Status.SUCCEEDED and paid.captured == Money(150_000)


def test_direct_card_goes_to_the_hosted_card_form(gateway, make_request):
    result = gateway.create_direct(make_request(method=Method.CARD))
    assert result.next_action.kind == "redirect" and result.method is Method.CARD


@pytest.mark.parametrize("number,status,code", [
    ("4811111111111114", Status.SUCCEEDED, ""),
    ("4911111111111113", Status.FAILED, "card_declined"),
    ("4411111111111118", Status.FAILED, "insufficient_funds"),
    ("4511111111111117", Status.FAILED, "expired_card"),
    ("4000000000003220", Status.REQUIRES_ACTION, ""),
])
def test_every_test_card(gateway, make_request, number, status, code):
    request = make_request()
    gateway.create_checkout(request)
    _pay_card(request.reference, number)
    result = gateway.get_status(request.reference)
    assert result.status is status
    assert result.failure_code == code
    assert result.method is Method.CARD
    row = SandboxPayment.objects.get(reference=request.reference)
    assert row.card_last4 == number[-4:]
    # the number is kept nowhere
    assert not SandboxPayment.objects.filter(metadata__icontains=number).exists()


def test_card_past_its_expiry_date_is_declined(gateway, make_request, frozen_clock):
    request = make_request()
    gateway.create_checkout(request)
    _pay_card(request.reference, "4811111111111114", expiry=(11, 2026))
    assert gateway.get_status(request.reference).failure_code == "expired_card"


def test_invalid_card_input_is_refused_and_payment_stays_open(gateway, make_request):
    request = make_request()
    gateway.create_checkout(request)
    with pytest.raises(ApiError) as exc:
        _pay_card(request.reference, "4811111111111115")  # bad Luhn digit
    assert exc.value.code == "invalid_number"
    assert gateway.get_status(request.reference).status is Status.REQUIRES_ACTION


def test_3ds_challenge_with_otp(gateway, make_request):
    request = make_request()
    gateway.create_checkout(request)
    payment = _pay_card(request.reference, "4000000000003220")
    assert payment.threeds_state == SandboxPayment.THREEDS_CHALLENGE
    payment, ok = services.payment_submit_otp(payment.pk, "000000")
    assert not ok and gateway.get_status(request.reference).status is Status.REQUIRES_ACTION
    payment, ok = services.payment_submit_otp(payment.pk, "112233")
    assert ok
    result = gateway.get_status(request.reference)
    assert result.status is Status.SUCCEEDED and result.raw["threeds"] == "passed"


def test_3ds_fails_after_three_wrong_otps(gateway, make_request):
    request = make_request()
    gateway.create_checkout(request)
    payment = _pay_card(request.reference, "4000000000003220")
    for _ in range(3):
        payment, ok = services.payment_submit_otp(payment.pk, "999999")
    result = gateway.get_status(request.reference)
    assert result.status is Status.FAILED and result.failure_code == "authentication_failed"


# --- expiry ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,lifetime", [
    (Method.VA_BCA, dt.timedelta(hours=24)), (Method.QRIS, dt.timedelta(minutes=15)),
    (Method.INDOMARET, dt.timedelta(hours=24)), (Method.GOPAY, dt.timedelta(minutes=15)),
])
def test_unpaid_payments_expire_on_get_status(gateway, make_request, frozen_clock, method, lifetime):
    request = make_request(method=method)
    gateway.create_direct(request)
    clock.advance(lifetime - dt.timedelta(seconds=1))
    assert gateway.get_status(request.reference).status is Status.REQUIRES_ACTION
    clock.advance(dt.timedelta(seconds=2))
    assert gateway.get_status(request.reference).status is Status.EXPIRED
    with pytest.raises(ApiError):  # the simulate panel refuses too
        services.payment_simulate(SandboxPayment.objects.get(reference=request.reference).pk)


def test_expiry_sweep_applies_without_anyone_asking(gateway, make_request, frozen_clock):
    request = make_request(method=Method.QRIS)
    gateway.create_direct(request)
    clock.advance(dt.timedelta(minutes=16))
    jobs.sweep(enqueue=jobs.run)
    assert SandboxPayment.objects.get(reference=request.reference).status == SandboxPayment.EXPIRED


def test_requested_expiry_wins_over_the_default(gateway, make_request, frozen_clock):
    request = make_request(method=Method.VA_BNI, expires_in_seconds=3600)
    gateway.create_direct(request)
    clock.advance(dt.timedelta(minutes=61))
    assert services.payments_expire_due() == 1
    assert gateway.get_status(request.reference).status is Status.EXPIRED


def test_cancel(gateway, make_request):
    request = make_request(method=Method.VA_BRI)
    gateway.create_direct(request)
    assert gateway.cancel(request.reference).status is Status.CANCELED
    paid = make_request(method=Method.VA_BRI)
    gateway.create_direct(paid)
    services.payment_simulate(SandboxPayment.objects.get(reference=paid.reference).pk)
    with pytest.raises(GatewayDeclined):
        gateway.cancel(paid.reference)
    with pytest.raises(PaymentNotFound):
        gateway.get_status("never-created")


# --- refunds -----------------------------------------------------------------------------------


def _paid_card(gateway, make_request, amount=150_000, save=False):
    request = make_request(amount=amount, save_method=save)
    gateway.create_checkout(request)
    _pay_card(request.reference, "4811111111111114")
    return request


def test_card_refund_full_and_partial_with_refund_key(gateway, make_request):
    request = _paid_card(gateway, make_request)
    first = gateway.refund(request.reference, Money(50_000), refund_key="r1", reason="change of plan")
    assert first.status == "succeeded" and first.amount == Money(50_000)
    assert gateway.refund(request.reference, Money(50_000), refund_key="r1", reason="retry").gateway_reference == \
        first.gateway_reference  # same key: same refund, not a second one
    status = gateway.get_status(request.reference)
    assert status.status is Status.PARTIALLY_REFUNDED and status.refunded == Money(50_000)
    with pytest.raises(GatewayDeclined) as exc:
        gateway.refund(request.reference, Money(100_001), refund_key="r2", reason="too much")
    assert exc.value.code == "amount_too_large"
    gateway.refund(request.reference, Money(100_000), refund_key="r3", reason="rest")
    status = gateway.get_status(request.reference)
    assert status.status is Status.REFUNDED and status.refunded == Money(150_000)


@pytest.mark.parametrize("method", [Method.VA_BCA, Method.VA_MANDIRI, Method.INDOMARET, Method.ALFAMART])
def test_refund_refused_for_transfers_and_stores(gateway, make_request, method):
    request = make_request(method=method)
    gateway.create_direct(request)
    services.payment_simulate(SandboxPayment.objects.get(reference=request.reference).pk)
    with pytest.raises(GatewayDeclined) as exc:
        gateway.refund(request.reference, Money(150_000), refund_key="k", reason="x")
    assert exc.value.code == "refund_unsupported"


def test_qris_refund_full_only(gateway, make_request):
    request = make_request(method=Method.QRIS)
    gateway.create_direct(request)
    services.payment_simulate(SandboxPayment.objects.get(reference=request.reference).pk)
    with pytest.raises(GatewayDeclined) as exc:
        gateway.refund(request.reference, Money(1_000), refund_key="p", reason="x")
    assert exc.value.code == "partial_refund_unsupported"
    assert gateway.refund(request.reference, Money(150_000), refund_key="f", reason="x").status == "succeeded"


def test_unpaid_payment_cannot_be_refunded(gateway, make_request):
    request = make_request()
    gateway.create_checkout(request)
    with pytest.raises(GatewayDeclined) as exc:
        gateway.refund(request.reference, Money(1), refund_key="k", reason="x")
    assert exc.value.code == "not_refundable"


def test_refund_that_fails_by_magic_amount_or_flag(gateway, make_request, merchant):
    request = _paid_card(gateway, make_request)
    failed = gateway.refund(request.reference, Money(10_666), refund_key="m", reason="magic")
    assert failed.status == "failed" and failed.failure_message
    assert gateway.get_status(request.reference).status is Status.SUCCEEDED  # nothing was returned
    SandboxFaults.objects.create(merchant=merchant, refund_fail=True)
    assert gateway.refund(request.reference, Money(5_000), refund_key="f", reason="flag").status == "failed"
    assert gateway.get_status(request.reference).refunded is None


# --- saved tokens --------------------------------------------------------------------------------


def test_saved_card_and_off_session_charge(gateway, make_request):
    request = _paid_card(gateway, make_request, save=True)
    saved = gateway.get_status(request.reference).saved_method
    assert saved is not None and saved.method is Method.CARD and saved.masked.endswith("1114")
    assert "4811111111111114" not in saved.token
    renewal = make_request(amount=99_000)
    result = gateway.charge_saved(renewal, saved.token)
    assert result.status is Status.SUCCEEDED and result.captured == Money(99_000)
    again = gateway.charge_saved(renewal, saved.token)  # a retried renewal charges once
    assert again.gateway_reference == result.gateway_reference
    assert SandboxPayment.objects.filter(reference=renewal.reference).count() == 1


@pytest.mark.parametrize("token,status,code", [
    ("tok_sandbox_success", Status.SUCCEEDED, ""),
    ("tok_sandbox_expired", Status.FAILED, "expired_card"),
    ("tok_sandbox_declined", Status.FAILED, "card_declined"),
    ("tok_sandbox_insufficient", Status.FAILED, "insufficient_funds"),
    ("tok_sandbox_needs_auth", Status.REQUIRES_ACTION, "authentication_required"),
])
def test_builtin_tokens(gateway, make_request, token, status, code):
    result = gateway.charge_saved(make_request(), token)
    assert result.status is status and result.failure_code == code


def test_token_that_needs_authentication_is_finished_by_the_client(gateway, make_request):
    request = make_request()
    result = gateway.charge_saved(request, "tok_sandbox_needs_auth")
    assert result.next_action.kind == "redirect" and "/sandbox/checkout/" in result.next_action.url
    payment = SandboxPayment.objects.get(reference=request.reference)
    services.payment_submit_otp(payment.pk, "112233")
    assert gateway.get_status(request.reference).status is Status.SUCCEEDED


def test_unknown_token_is_declined(gateway, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        gateway.charge_saved(make_request(), "tok_nope")
    assert exc.value.code == "token_not_found"


# --- faults and credentials ---------------------------------------------------------------------


def test_5xx_fault_refuses_before_any_work(gateway, make_request, merchant):
    SandboxFaults.objects.create(merchant=merchant, api_fault=SandboxFaults.API_5XX, api_fault_calls=1)
    request = make_request(method=Method.VA_BCA)
    with pytest.raises(GatewayError):
        gateway.create_direct(request)
    assert not SandboxPayment.objects.exists()
    assert gateway.create_direct(request).status is Status.REQUIRES_ACTION  # the counted fault ran out


def test_timeout_fault_does_the_work_and_a_retry_does_not_duplicate(gateway, make_request, merchant):
    SandboxFaults.objects.create(merchant=merchant, api_fault=SandboxFaults.API_TIMEOUT)
    request = make_request(method=Method.VA_BCA)
    with pytest.raises(GatewayError):
        gateway.create_direct(request)
    with pytest.raises(GatewayError):
        gateway.get_status(request.reference)
    with pytest.raises(GatewayError):
        gateway.test_connection()
    SandboxFaults.objects.filter(merchant=merchant).update(api_fault="")
    first = gateway.get_status(request.reference)
    assert gateway.create_direct(request).gateway_reference == first.gateway_reference
    assert SandboxPayment.objects.filter(reference=request.reference).count() == 1


def test_global_and_settings_faults(gateway, make_request, settings):
    settings.SANDBOX_FAULTS = {"api_fault": "5xx"}
    with pytest.raises(GatewayError):
        gateway.test_connection()
    settings.SANDBOX_FAULTS = {}
    SandboxFaults.objects.create(merchant=None, api_fault="5xx")
    with pytest.raises(GatewayError):
        gateway.test_connection()


def test_credentials(merchant):
    from jasa.payments.gateways.sandbox import SandboxGateway

    assert "sandbox merchant" in SandboxGateway(merchant.credentials).test_connection().lower()
    with pytest.raises(GatewayDeclined) as exc:
        SandboxGateway({"merchant_id": merchant.merchant_id, "secret_key": "wrong"}).test_connection()
    assert exc.value.code == "unauthorized"
    # without credentials the sandbox still works (jasa's default gateway before any set-up)
    assert SandboxGateway({}).test_connection().startswith("Sandbox merchant default")


def test_signatures_follow_the_protocol(gateway, make_request):
    import inspect

    from jasa.payments.gateways.base import Gateway
    from jasa.payments.gateways.sandbox import SandboxGateway

    for name in ("create_checkout", "create_direct", "charge_saved", "get_status", "cancel", "refund",
                 "parse_webhook", "test_connection"):
        expected = inspect.signature(getattr(Gateway, name)).parameters
        assert list(inspect.signature(getattr(SandboxGateway, name)).parameters) == list(expected), name
    request = make_request(method=Method.CARD)
    created = gateway.create_direct(request)
    assert gateway.get_status(request.reference, gateway_reference=created.gateway_reference).status is \
        Status.REQUIRES_ACTION
