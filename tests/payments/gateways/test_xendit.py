"""Contract tests: the Xendit adapter (official xendit-python ApiClient) against a local fake of Xendit's API."""

from __future__ import annotations

import base64
import json

import pytest

from jasa.core.money import Money
from jasa.payments.gateways.base import (
    GatewayDeclined,
    GatewayError,
    Method,
    PaymentNotFound,
    Status,
    WebhookRejected,
    gateway_class,
)
from jasa.payments.gateways.xendit import INVOICE_STATUS, PAYMENT_REQUEST_STATUS, REFUND_STATUS, XenditGateway


def test_registered_with_capabilities():
    assert gateway_class("xendit") is XenditGateway
    assert XenditGateway.methods[Method.DANA].save_for_recurring
    assert not XenditGateway.methods[Method.VA_MANDIRI].refund
    assert Method.GOPAY not in XenditGateway.methods


# --- invoices (hosted checkout) -------------------------------------------------------------
def test_invoice_checkout(xendit, fake_xendit, make_request):
    request = make_request(Method.VA_BCA, expires_in_seconds=3600)
    payment = xendit.create_checkout(request)
    assert payment.status is Status.REQUIRES_ACTION
    assert payment.next_action.kind == "redirect"
    assert payment.next_action.url.startswith("https://checkout-staging.xendit.co/web/")
    sent = fake_xendit.last("POST", "/v2/invoices")
    body = sent.json()
    assert body["external_id"] == request.reference
    assert body["amount"] == 150_000 and isinstance(body["amount"], int)  # whole rupiah, never a float
    assert body["payment_methods"] == ["BCA"]
    assert body["invoice_duration"] == 3600
    assert body["success_redirect_url"] == request.return_url
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"xnd_development_jasa:").decode()


# The invoice's payment_methods code per jasa method, as Xendit's Create Invoice reference lists them
# (https://docs.xendit.co/apidocs/create-invoice : payment_methods, e.g. "CREDIT_CARD", "BCA", "BNI", "BRI",
# "MANDIRI", "PERMATA", "QRIS", "OVO", "DANA", "SHOPEEPAY", "INDOMARET", "ALFAMART").
INVOICE_DOCUMENTED = {
    Method.CARD: "CREDIT_CARD", Method.VA_BCA: "BCA", Method.VA_BNI: "BNI", Method.VA_BRI: "BRI",
    Method.VA_MANDIRI: "MANDIRI", Method.VA_PERMATA: "PERMATA", Method.QRIS: "QRIS", Method.OVO: "OVO",
    Method.DANA: "DANA", Method.SHOPEEPAY: "SHOPEEPAY", Method.INDOMARET: "INDOMARET", Method.ALFAMART: "ALFAMART",
}


def test_every_method_has_its_documented_invoice_code():
    assert set(INVOICE_DOCUMENTED) == set(XenditGateway.methods)


@pytest.mark.parametrize(("method", "code"), INVOICE_DOCUMENTED.items())
def test_invoice_limited_to_one_allowed_method(xendit, fake_xendit, make_request, method, code):
    xendit.create_checkout(make_request(allowed_methods=(method,)))
    assert fake_xendit.last("POST", "/v2/invoices").json()["payment_methods"] == [code]


def test_invoice_lists_exactly_the_allowed_methods(xendit, fake_xendit, make_request):
    xendit.create_checkout(make_request(allowed_methods=(Method.DANA, Method.VA_BRI, Method.CARD)))
    assert fake_xendit.last("POST", "/v2/invoices").json()["payment_methods"] == ["DANA", "BRI", "CREDIT_CARD"]
    xendit.create_checkout(make_request())  # nothing enabled in particular: every method of the account
    assert "payment_methods" not in fake_xendit.last("POST", "/v2/invoices").json()


def test_invoice_with_no_method_xendit_offers_is_refused(xendit, fake_xendit, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        xendit.create_checkout(make_request(allowed_methods=(Method.GOPAY,)))
    assert exc.value.code == "unsupported_method"
    assert not fake_xendit.requests


def test_retried_invoice_is_not_created_twice(xendit, fake_xendit, make_request):
    request = make_request()
    first = xendit.create_checkout(request)
    again = xendit.create_checkout(request)
    assert again.gateway_reference == first.gateway_reference
    assert len(fake_xendit.invoices) == 1
    assert fake_xendit.calls("GET", "/v2/invoices")[-1].query["external_id"] == [request.reference]


@pytest.mark.parametrize(("xendit_status", "expected"), [
    ("PENDING", Status.REQUIRES_ACTION),
    ("PAID", Status.SUCCEEDED),
    ("SETTLED", Status.SUCCEEDED),
    ("EXPIRED", Status.EXPIRED),
])
def test_invoice_status_mapping(xendit, fake_xendit, make_request, xendit_status, expected):
    request = make_request()
    iid = xendit.create_checkout(request).gateway_reference
    fake_xendit.set_invoice(iid, xendit_status, paid_amount=150_000, payment_channel="OVO", fees_paid_amount=2_250)
    by_reference = xendit.get_status(request.reference)
    by_id = xendit.get_status(request.reference, gateway_reference=iid)
    assert by_reference.status is by_id.status is expected
    if expected is Status.SUCCEEDED:
        assert by_id.captured == Money(150_000) and by_id.method is Method.OVO and by_id.fee == Money(2_250)


def test_invoice_table_is_complete():
    # Every value of the SDK's own InvoiceStatus enum (generated from Xendit's API spec) is mapped.
    from xendit.invoice.model.invoice_status import InvoiceStatus

    sdk_values = {v for v in InvoiceStatus.allowed_values[("value",)].values() if v != "UNKNOWN_ENUM_VALUE"}
    assert sdk_values == set(INVOICE_STATUS)


def test_cancel_invoice_expires_it(xendit, fake_xendit, make_request):
    request = make_request()
    iid = xendit.create_checkout(request).gateway_reference
    assert xendit.cancel(request.reference).status is Status.EXPIRED
    assert fake_xendit.last("POST").path == f"/invoices/{iid}/expire!"


# --- payment requests (direct methods) --------------------------------------------------------
@pytest.mark.parametrize(("method", "kind", "check"), [
    (Method.VA_BCA, "va_number", lambda a: a.va_number == "8808999912345678" and a.bank == "bca"),
    (Method.VA_BNI, "va_number", lambda a: a.bank == "bni"),
    (Method.VA_BRI, "va_number", lambda a: a.bank == "bri"),
    (Method.VA_MANDIRI, "va_number", lambda a: a.bank == "mandiri"),
    (Method.VA_PERMATA, "va_number", lambda a: a.bank == "permata"),
    (Method.QRIS, "qr", lambda a: a.qr_string.startswith("000201")),
    (Method.DANA, "deeplink", lambda a: a.url.startswith("https://link.dana.id/")),
    (Method.SHOPEEPAY, "deeplink", lambda a: a.url),
    (Method.OVO, "none", lambda a: True),
    (Method.INDOMARET, "store_code", lambda a: a.store_code == "TEST123456"),
    (Method.ALFAMART, "store_code", lambda a: a.store_code == "TEST123456"),
])
def test_direct_methods(xendit, fake_xendit, make_request, method, kind, check):
    request = make_request(method, expires_in_seconds=900)
    payment = xendit.create_direct(request)
    assert payment.status is Status.REQUIRES_ACTION
    assert payment.method is method
    assert payment.gateway_reference.startswith("pr-")
    assert payment.next_action.kind == kind and check(payment.next_action)
    sent = fake_xendit.last("POST", "/payment_requests")
    assert sent.headers["idempotency-key"] == request.reference
    body = sent.json()
    assert body["reference_id"] == request.reference and body["amount"] == 150_000
    assert body["payment_method"]["reusability"] == "ONE_TIME_USE"


def test_card_is_not_direct(xendit, make_request):
    with pytest.raises(GatewayDeclined):
        xendit.create_direct(make_request(Method.CARD))


def test_retried_payment_request_charges_once(xendit, fake_xendit, make_request):
    request = make_request(Method.QRIS)
    first = xendit.create_direct(request)
    assert xendit.create_direct(request).gateway_reference == first.gateway_reference
    assert len(fake_xendit.payment_requests) == 1


def test_conflict_on_retry_reports_the_existing_payment(xendit, fake_xendit, make_request):
    request = make_request(Method.VA_BNI)
    first = xendit.create_direct(request)
    fake_xendit.fail_next(409, {"error_code": "DUPLICATE_ERROR", "message": "reference_id already used"})
    assert xendit.create_direct(request).gateway_reference == first.gateway_reference


@pytest.mark.parametrize(("xendit_status", "expected"), [
    ("PENDING", Status.REQUIRES_ACTION),
    ("REQUIRES_ACTION", Status.REQUIRES_ACTION),
    ("AWAITING_CAPTURE", Status.PROCESSING),
    ("UNKNOWN", Status.PROCESSING),
    ("SUCCEEDED", Status.SUCCEEDED),
    ("FAILED", Status.FAILED),
    ("CANCELED", Status.CANCELED),
    ("VOIDED", Status.CANCELED),
    ("EXPIRED", Status.EXPIRED),
])
def test_payment_request_status_mapping(xendit, fake_xendit, make_request, xendit_status, expected):
    request = make_request(Method.DANA)
    pid = xendit.create_direct(request).gateway_reference
    fake_xendit.set_payment_request(pid, xendit_status, failure_code="ACCOUNT_ACCESS_BLOCKED" if expected is Status.FAILED else None)
    payment = xendit.get_status(request.reference)
    assert payment.status is expected
    assert xendit.get_status(request.reference, gateway_reference=pid).status is expected
    if expected is Status.FAILED:
        assert payment.failure_code == "ACCOUNT_ACCESS_BLOCKED"


def test_payment_request_table_is_complete():
    # Every value of the SDK's own PaymentRequestStatus enum is mapped.
    from xendit.payment_request.model.payment_request_status import PaymentRequestStatus

    sdk_values = {v for v in PaymentRequestStatus.allowed_values[("value",)].values() if v != "UNKNOWN_ENUM_VALUE"}
    assert sdk_values == set(PAYMENT_REQUEST_STATUS)


def test_cancel_payment_request_expires_its_method(xendit, fake_xendit, make_request):
    request = make_request(Method.VA_BRI)
    payment = xendit.create_direct(request)
    assert xendit.cancel(request.reference).status is Status.CANCELED
    assert fake_xendit.last("POST").path == f"/v2/payment_methods/{payment.raw['payment_method']['id']}/expire"


def test_unknown_reference_is_not_found(xendit):
    with pytest.raises(PaymentNotFound):
        xendit.get_status("never-created")


# --- recurring ------------------------------------------------------------------------------
def test_a_card_can_be_neither_saved_nor_charged_off_session(xendit, fake_xendit, make_request):
    card = XenditGateway.methods[Method.CARD]
    assert card.refund and not card.save_for_recurring and not card.off_session
    # Why: the invoice page is the only way a card pays, and a paid invoice carries no reusable token.
    request = make_request(save_method=True)
    iid = xendit.create_checkout(request).gateway_reference
    fake_xendit.set_invoice(iid, "PAID", paid_amount=150_000, payment_channel="CREDIT_CARD")
    paid = xendit.get_status(request.reference)
    assert paid.status is Status.SUCCEEDED and paid.method is Method.CARD and paid.saved_method is None
    with pytest.raises(GatewayDeclined):
        xendit.create_direct(make_request(Method.CARD))


def test_saving_an_ewallet_gives_a_multiple_use_token(xendit, fake_xendit, make_request):
    payment = xendit.create_direct(make_request(Method.DANA, save_method=True))
    assert fake_xendit.last("POST", "/payment_requests").json()["payment_method"]["reusability"] == "MULTIPLE_USE"
    assert payment.saved_method.token.startswith("pm-") and payment.saved_method.method is Method.DANA


def test_charge_saved_method(xendit, fake_xendit, make_request):
    request = make_request(Method.DANA)
    payment = xendit.charge_saved(request, "pm-saved-0001")
    assert payment.status is Status.SUCCEEDED
    body = fake_xendit.last("POST", "/payment_requests").json()
    assert body["payment_method_id"] == "pm-saved-0001" and "payment_method" not in body
    assert fake_xendit.last("POST").headers["idempotency-key"] == request.reference
    assert payment.saved_method.token == "pm-saved-0001"


def test_charge_saved_declined(xendit, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        xendit.charge_saved(make_request(Method.DANA), "pm-declined")
    assert exc.value.code == "INSUFFICIENT_BALANCE"


# --- refunds --------------------------------------------------------------------------------
def test_refund_partial_then_full(xendit, fake_xendit, make_request):
    request = make_request(Method.DANA, amount=100_000)
    pid = xendit.create_direct(request).gateway_reference
    fake_xendit.set_payment_request(pid, "SUCCEEDED")
    part = xendit.refund(request.reference, Money(40_000), refund_key="rf-1", reason="sebagian")
    assert part.status == "succeeded" and part.amount == Money(40_000)
    sent = fake_xendit.last("POST", "/refunds")
    assert sent.headers["idempotency-key"] == "rf-1"
    assert sent.json()["payment_request_id"] == pid and sent.json()["reference_id"] == "rf-1"
    again = xendit.refund(request.reference, Money(40_000), refund_key="rf-1", reason="retry")
    assert again.gateway_reference == part.gateway_reference and len(fake_xendit.refunds) == 1
    status = xendit.get_status(request.reference)
    assert status.status is Status.PARTIALLY_REFUNDED and status.refunded == Money(40_000)
    xendit.refund(request.reference, Money(60_000), refund_key="rf-2", reason="sisa")
    assert xendit.get_status(request.reference).status is Status.REFUNDED


def test_refund_of_paid_invoice(xendit, fake_xendit, make_request):
    request = make_request()
    iid = xendit.create_checkout(request).gateway_reference
    fake_xendit.set_invoice(iid, "PAID", payment_channel="CREDIT_CARD")
    xendit.refund(request.reference, Money(150_000), refund_key="rf-inv", reason="batal")
    assert fake_xendit.last("POST", "/refunds").json()["invoice_id"] == iid
    assert xendit.get_status(request.reference).status is Status.REFUNDED


# The Refund object's status, Xendit's Refunds reference (https://docs.xendit.co/apidocs/refund-payment-request,
# "Refund object" -> status; the refund.succeeded / refund.failed webhooks report the outcome of a pending one).
# The SDK's Refund model carries no status enum to compare with.
REFUND_DOCUMENTED = {"SUCCEEDED", "FAILED", "PENDING", "CANCELLED"}


def test_refund_table_is_complete():
    assert set(REFUND_STATUS) == REFUND_DOCUMENTED


def _paid_dana(xendit, fake_xendit, make_request, amount=100_000):
    request = make_request(Method.DANA, amount=amount)
    pid = xendit.create_direct(request).gateway_reference
    fake_xendit.set_payment_request(pid, "SUCCEEDED")
    return request


@pytest.mark.parametrize(("xendit_status", "expected"), sorted(REFUND_STATUS.items()))
def test_refund_status_mapping(xendit, fake_xendit, make_request, xendit_status, expected):
    request = _paid_dana(xendit, fake_xendit, make_request)
    fake_xendit.refund_outcome = xendit_status
    result = xendit.refund(request.reference, Money(40_000), refund_key="rf-1", reason="batal")
    assert result.status == expected
    assert result.failure_message == ("INELIGIBLE_TRANSACTION" if expected == "failed" else "")


def test_pending_refund_counts_once_it_succeeded(xendit, fake_xendit, make_request):
    request = _paid_dana(xendit, fake_xendit, make_request)
    fake_xendit.refund_outcome = "PENDING"
    pending = xendit.refund(request.reference, Money(40_000), refund_key="rf-1", reason="batal")
    assert pending.status == "pending"
    still = xendit.get_status(request.reference)
    assert still.status is Status.SUCCEEDED and still.refunded is None  # not back with the client yet
    fake_xendit.settle_refund(pending.gateway_reference, "SUCCEEDED")
    after = xendit.get_status(request.reference)
    assert after.status is Status.PARTIALLY_REFUNDED and after.refunded == Money(40_000)


@pytest.mark.parametrize("outcome", ["FAILED", "CANCELLED"])
def test_failed_refund_never_counts(xendit, fake_xendit, make_request, outcome):
    request = _paid_dana(xendit, fake_xendit, make_request)
    fake_xendit.refund_outcome = "PENDING"
    pending = xendit.refund(request.reference, Money(100_000), refund_key="rf-1", reason="batal")
    fake_xendit.settle_refund(pending.gateway_reference, outcome)
    after = xendit.get_status(request.reference)
    assert after.status is Status.SUCCEEDED and after.refunded is None
    assert after.failed_refunds == {"rf-1": "INELIGIBLE_TRANSACTION"}  # by jasa's refund key, with the reason


def test_unknown_refund_status_is_pending(xendit, fake_xendit, make_request):
    # A status newer than this adapter: the refund stays pending in jasa (its amount reserved) until a
    # re-read of the payment shows it refunded; it is never taken as done or as failed.
    request = _paid_dana(xendit, fake_xendit, make_request)
    fake_xendit.refund_outcome = "REQUIRES_APPROVAL"
    assert xendit.refund(request.reference, Money(1_000), refund_key="rf-1", reason="x").status == "pending"


@pytest.mark.parametrize(("method", "amount", "code"), [
    (Method.VA_BCA, 150_000, "REFUND_NOT_SUPPORTED"),
    (Method.DANA, 150_001, "MAXIMUM_REFUND_AMOUNT_REACHED"),
    (Method.QRIS, 50_000, "PARTIAL_REFUND_NOT_SUPPORTED"),
])
def test_refund_refused(xendit, fake_xendit, make_request, method, amount, code):
    request = make_request(method)
    pid = xendit.create_direct(request).gateway_reference
    fake_xendit.set_payment_request(pid, "SUCCEEDED")
    with pytest.raises(GatewayDeclined) as exc:
        xendit.refund(request.reference, Money(amount), refund_key="rf", reason="x")
    assert exc.value.code == code


# --- failures -------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [None, {"error_code": "SERVER_ERROR", "message": "Something went wrong"}])
@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_gateway_error(xendit, fake_xendit, make_request, status, body):
    fake_xendit.fail_next(status, body)
    with pytest.raises(GatewayError) as exc:
        xendit.create_direct(make_request(Method.QRIS))
    assert exc.value.retryable


def test_timeout_is_gateway_error(xendit, fake_xendit, make_request):
    fake_xendit.delay_next(2.5)
    with pytest.raises(GatewayError):
        xendit.create_direct(make_request(Method.QRIS))


def test_unreachable_is_gateway_error():
    gw = XenditGateway({"secret_key": "k", "api_base": "http://127.0.0.1:9", "timeout": "1"})
    with pytest.raises(GatewayError):
        gw.get_status("x")


def test_validation_error_is_declined(xendit, fake_xendit, make_request):
    fake_xendit.fail_next(400, {"error_code": "API_VALIDATION_ERROR", "message": "amount must be at least 1"})
    with pytest.raises(GatewayDeclined) as exc:
        xendit.create_direct(make_request(Method.QRIS))
    assert exc.value.code == "API_VALIDATION_ERROR"


def test_test_connection(xendit, fake_xendit):
    assert "secret key accepted" in xendit.test_connection()
    fake_xendit.fail_next(401, {"error_code": "INVALID_API_KEY", "message": "API key is not authorized"})
    with pytest.raises(GatewayDeclined):
        xendit.test_connection()


# --- webhooks -------------------------------------------------------------------------------
def test_invoice_callback(xendit, fake_xendit, make_request):
    request = make_request()
    iid = xendit.create_checkout(request).gateway_reference
    fake_xendit.set_invoice(iid, "PAID")
    event = xendit.parse_webhook({"X-CALLBACK-TOKEN": "cb-token-jasa"}, fake_xendit.invoice_callback(iid))
    assert event.reference == request.reference
    assert event.claimed_status == "PAID" and event.kind == "xendit.invoice"
    assert event.event_id == f"invoice:{iid}:PAID"


def test_payment_callback_uses_webhook_id(xendit, fake_xendit, make_request):
    request = make_request(Method.VA_BCA)
    pid = xendit.create_direct(request).gateway_reference
    body = fake_xendit.payment_callback(pid)
    event = xendit.parse_webhook({"x-callback-token": "cb-token-jasa", "webhook-id": "wh-1"}, body)
    assert event.reference == request.reference and event.kind == "xendit.payment.succeeded"
    assert event.event_id == "wh-1"
    assert xendit.parse_webhook({"x-callback-token": "cb-token-jasa"}, body).event_id.startswith("payment.succeeded:py-")


@pytest.mark.parametrize("headers", [{}, {"x-callback-token": ""}, {"x-callback-token": "cb-token-jasX"},
                                     {"x-callback-token": "cb-token-jasa-longer"}])
def test_callback_with_wrong_token_is_rejected(xendit, headers):
    with pytest.raises(WebhookRejected):
        xendit.parse_webhook(headers, json.dumps({"id": "1", "external_id": "p", "status": "PAID"}).encode())


def test_no_configured_token_rejects_everything(fake_xendit):
    gw = XenditGateway({"secret_key": "k", "api_base": fake_xendit.url})
    with pytest.raises(WebhookRejected):
        gw.parse_webhook({"x-callback-token": ""}, b"{}")


@pytest.mark.parametrize("raw", [b"", b"nope", b"[]", b'{"event": "payment.succeeded"}', b'{"id": "x"}'])
def test_malformed_callback_is_rejected(xendit, raw):
    with pytest.raises(WebhookRejected):
        xendit.parse_webhook({"x-callback-token": "cb-token-jasa"}, raw)


def test_qris_full_refund(xendit, fake_xendit, make_request):
    request = make_request(Method.QRIS)
    pid = xendit.create_direct(request).gateway_reference
    fake_xendit.set_payment_request(pid, "SUCCEEDED")
    assert xendit.refund(request.reference, Money(150_000), refund_key="rf-q", reason="x").status == "succeeded"
    assert xendit.get_status(request.reference).status is Status.REFUNDED


def test_default_host_is_xendit():
    assert XenditGateway({"secret_key": "k"})._api.configuration.host == "https://api.xendit.co"
