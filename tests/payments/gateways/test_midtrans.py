"""Contract tests: the Midtrans adapter (official midtransclient) against a local fake of Midtrans' API."""

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
from jasa.payments.gateways.midtrans import STATUS_TABLE, MidtransGateway, map_status


def test_registered_with_capabilities():
    assert gateway_class("midtrans") is MidtransGateway
    assert MidtransGateway.methods[Method.CARD].off_session
    assert not MidtransGateway.methods[Method.VA_BCA].refund  # Midtrans refunds no VA
    assert Method.OVO not in MidtransGateway.methods


def test_snap_checkout_sends_order_id_and_returns_redirect(midtrans, fake_midtrans, make_request):
    request = make_request(save_method=True)
    payment = midtrans.create_checkout(request)
    assert payment.status is Status.REQUIRES_ACTION
    assert payment.next_action.kind == "redirect"
    assert payment.next_action.url.startswith(f"{fake_midtrans.url}/snap/v4/redirection/")
    sent = fake_midtrans.last("POST", "/snap/v1/transactions")
    body = sent.json()
    assert body["transaction_details"] == {"order_id": request.reference, "gross_amount": 150_000}
    assert body["credit_card"]["save_card"] is True
    # Snap's token storage needs a user_id: a keyed hash, the same for the same client, not their email
    assert len(body["user_id"]) == 64 and "budi" not in body["user_id"]
    midtrans.create_checkout(make_request(save_method=True, customer_email=" Budi@Example.test"))
    assert fake_midtrans.last("POST", "/snap/v1/transactions").json()["user_id"] == body["user_id"]
    midtrans.create_checkout(make_request())
    assert "user_id" not in fake_midtrans.last("POST", "/snap/v1/transactions").json()
    assert sent.headers["x-override-notification"] == "https://jasa.example/webhooks/x"
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"SB-Mid-server-test:").decode()


def test_snap_checkout_for_one_method_limits_enabled_payments(midtrans, fake_midtrans, make_request):
    midtrans.create_checkout(make_request(Method.VA_BCA, expires_in_seconds=3600))
    body = fake_midtrans.last("POST", "/snap").json()
    assert body["enabled_payments"] == ["bca_va"]
    assert body["expiry"] == {"unit": "minute", "duration": 60}


# Snap's enabled_payments code per jasa method, from each payment channel's page of the Snap reference
# (https://docs.midtrans.com/reference/ : Card Payment, BCA/BNI/BRI/Permata Virtual Account, Mandiri Bill Payment,
# Other QRIS, GoPay, ShopeePay, Indomaret, Alfamart - each page's "enabled_payments ... Value:").
SNAP_DOCUMENTED = {
    Method.CARD: "credit_card", Method.VA_BCA: "bca_va", Method.VA_BNI: "bni_va", Method.VA_BRI: "bri_va",
    Method.VA_PERMATA: "permata_va", Method.VA_MANDIRI: "echannel", Method.QRIS: "other_qris",
    Method.GOPAY: "gopay", Method.SHOPEEPAY: "shopeepay", Method.INDOMARET: "indomaret", Method.ALFAMART: "alfamart",
}


def test_every_method_has_its_documented_snap_code():
    assert set(SNAP_DOCUMENTED) == set(MidtransGateway.methods)


@pytest.mark.parametrize(("method", "code"), SNAP_DOCUMENTED.items())
def test_snap_page_limited_to_one_allowed_method(midtrans, fake_midtrans, make_request, method, code):
    midtrans.create_checkout(make_request(allowed_methods=(method,)))
    assert fake_midtrans.last("POST", "/snap").json()["enabled_payments"] == [code]


def test_snap_page_lists_exactly_the_allowed_methods(midtrans, fake_midtrans, make_request):
    midtrans.create_checkout(make_request(allowed_methods=(Method.VA_MANDIRI, Method.QRIS, Method.CARD)))
    assert fake_midtrans.last("POST", "/snap").json()["enabled_payments"] == ["echannel", "other_qris", "credit_card"]
    # Nothing enabled in particular: Snap shows every method of the merchant account.
    midtrans.create_checkout(make_request())
    assert "enabled_payments" not in fake_midtrans.last("POST", "/snap").json()
    # A method the client chose in jasa wins over the list (the core has checked it is enabled).
    midtrans.create_checkout(make_request(Method.GOPAY, allowed_methods=(Method.GOPAY, Method.QRIS)))
    assert fake_midtrans.last("POST", "/snap").json()["enabled_payments"] == ["gopay"]


def test_snap_page_with_no_method_midtrans_offers_is_refused(midtrans, fake_midtrans, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        midtrans.create_checkout(make_request(allowed_methods=(Method.OVO, Method.DANA)))
    assert exc.value.code == "unsupported_method"
    assert not fake_midtrans.calls("POST", "/snap")  # never a page that lists what the business switched off


@pytest.mark.parametrize(
    ("method", "kind", "check"),
    [
        (Method.VA_BCA, "va_number", lambda a: a.va_number == "12345678901" and a.bank == "bca"),
        (Method.VA_BNI, "va_number", lambda a: a.bank == "bni"),
        (Method.VA_BRI, "va_number", lambda a: a.bank == "bri"),
        (Method.VA_PERMATA, "va_number", lambda a: a.va_number == "263001234567890" and a.bank == "permata"),
        (Method.VA_MANDIRI, "va_number", lambda a: a.va_number == "990000000260" and a.bank == "mandiri" and a.biller_code == "70012"),
        (Method.QRIS, "qr", lambda a: a.qr_string.startswith("000201") and a.url.endswith("/qr-code")),
        (Method.GOPAY, "deeplink", lambda a: "gopay" in a.url),
        (Method.SHOPEEPAY, "deeplink", lambda a: "shopeepay" in a.url),
        (Method.INDOMARET, "store_code", lambda a: a.store_code == "010811223344"),
        (Method.ALFAMART, "store_code", lambda a: a.store_code == "010811223344"),
    ],
)
def test_direct_methods(midtrans, fake_midtrans, make_request, method, kind, check):
    request = make_request(method, expires_in_seconds=86400)
    payment = midtrans.create_direct(request)
    assert payment.status is Status.REQUIRES_ACTION
    assert payment.method is method
    assert payment.amount == Money(150_000, "IDR")
    assert payment.next_action.kind == kind and check(payment.next_action)
    assert payment.next_action.expires_at
    body = fake_midtrans.last("POST", "/v2/charge").json()
    assert body["transaction_details"]["order_id"] == request.reference
    assert body["custom_expiry"] == {"expiry_duration": 1440, "unit": "minute"}


def test_card_cannot_be_charged_directly(midtrans, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        midtrans.create_direct(make_request(Method.CARD))
    assert exc.value.code == "unsupported_method"


def test_other_currency_is_refused(midtrans, make_request):
    with pytest.raises(GatewayDeclined):
        midtrans.create_direct(make_request(Method.QRIS, amount=1000, currency="USD"))


def test_retried_create_never_charges_twice(midtrans, fake_midtrans, make_request):
    request = make_request(Method.VA_BNI)
    first = midtrans.create_direct(request)
    again = midtrans.create_direct(request)  # e.g. after a timeout on the first answer
    assert again.gateway_reference == first.gateway_reference
    assert again.next_action.va_number == first.next_action.va_number
    charges = fake_midtrans.calls("POST", "/v2/charge")
    assert [c.json()["transaction_details"]["order_id"] for c in charges] == [request.reference] * 2
    assert len(fake_midtrans.transactions) == 1


def test_saved_card_charge_captures_and_reports_token(midtrans, fake_midtrans, make_request):
    request = make_request(Method.CARD)
    payment = midtrans.charge_saved(request, "tok-saved-481111")
    assert payment.status is Status.SUCCEEDED
    assert payment.captured == Money(150_000)
    assert payment.saved_method.token == "tok-saved-481111"
    assert payment.saved_method.masked == "48111111-1114"
    body = fake_midtrans.last("POST", "/v2/charge").json()
    assert body["payment_type"] == "credit_card"
    assert body["credit_card"] == {"token_id": "tok-saved-481111", "authentication": False}


def test_saved_card_decline_raises_declined(midtrans, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        midtrans.charge_saved(make_request(Method.CARD), "tok-deny")
    assert exc.value.code == "05"
    assert "Do not honor" in str(exc.value)


def test_expired_saved_token_is_declined(midtrans, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        midtrans.charge_saved(make_request(Method.CARD), "tok-expired")
    assert exc.value.code == "411"


def test_saved_card_needing_3ds_requires_action(midtrans, make_request):
    payment = midtrans.charge_saved(make_request(Method.CARD), "tok-3ds")
    assert payment.status is Status.REQUIRES_ACTION
    assert payment.next_action.kind == "redirect"


# Every transaction status Midtrans documents, with the fraud_status variants of capture.
DOCUMENTED = [
    ("capture", "accept", Status.SUCCEEDED),
    ("capture", "challenge", Status.PROCESSING),
    ("capture", "deny", Status.FAILED),
    ("settlement", "accept", Status.SUCCEEDED),
    ("pending", "accept", Status.REQUIRES_ACTION),
    ("authorize", "accept", Status.PROCESSING),
    ("deny", "accept", Status.FAILED),
    ("cancel", "accept", Status.CANCELED),
    ("expire", "accept", Status.EXPIRED),
    ("failure", "", Status.FAILED),
    ("refund", "accept", Status.REFUNDED),
    ("partial_refund", "accept", Status.PARTIALLY_REFUNDED),
    ("chargeback", "accept", Status.DISPUTED),
    ("partial_chargeback", "accept", Status.DISPUTED),
]


@pytest.mark.parametrize(("transaction_status", "fraud_status", "expected"), DOCUMENTED)
def test_status_api_mapping(midtrans, fake_midtrans, make_request, transaction_status, fraud_status, expected):
    request = make_request(Method.GOPAY)
    midtrans.create_direct(request)
    fake_midtrans.set_status(request.reference, transaction_status, fraud_status)
    payment = midtrans.get_status(request.reference)
    assert payment.status is expected
    assert fake_midtrans.last("GET").path == f"/v2/{request.reference}/status"


def test_status_table_covers_every_documented_status():
    assert {tx for tx, _, _ in DOCUMENTED} == {tx for tx, _, _ in STATUS_TABLE}
    with pytest.raises(GatewayError):
        map_status("teleported")


def test_unknown_order_is_payment_not_found(midtrans):
    with pytest.raises(PaymentNotFound):
        midtrans.get_status("never-created")


def test_refund_full_and_partial_with_refund_key(midtrans, fake_midtrans, make_request):
    request = make_request(Method.GOPAY, amount=100_000)
    midtrans.create_direct(request)
    fake_midtrans.set_status(request.reference, "settlement")
    part = midtrans.refund(request.reference, Money(30_000), refund_key="rf-1", reason="Klien membatalkan sebagian")
    assert part.status == "succeeded" and part.amount == Money(30_000)
    sent = fake_midtrans.last("POST", "/refund")
    assert sent.path == f"/v2/{request.reference}/refund"
    assert sent.json() == {"refund_key": "rf-1", "amount": 30_000, "reason": "Klien membatalkan sebagian"}
    assert midtrans.get_status(request.reference).status is Status.PARTIALLY_REFUNDED
    # A retried refund with the same key is the same refund.
    midtrans.refund(request.reference, Money(30_000), refund_key="rf-1", reason="retry")
    assert midtrans.get_status(request.reference).refunded == Money(30_000)
    midtrans.refund(request.reference, Money(70_000), refund_key="rf-2", reason="rest")
    final = midtrans.get_status(request.reference)
    assert final.status is Status.REFUNDED and final.refunded == Money(100_000)


def test_refund_refused_for_virtual_account(midtrans, fake_midtrans, make_request):
    request = make_request(Method.VA_BCA)
    midtrans.create_direct(request)
    fake_midtrans.set_status(request.reference, "settlement")
    with pytest.raises(GatewayDeclined) as exc:
        midtrans.refund(request.reference, Money(150_000), refund_key="rf-va", reason="x")
    assert exc.value.code == "412"


def test_cancel_expires_pending_va_and_cancels_challenged_card(midtrans, fake_midtrans, make_request):
    va = make_request(Method.VA_BRI)
    midtrans.create_direct(va)
    assert midtrans.cancel(va.reference).status is Status.EXPIRED
    assert fake_midtrans.last("POST").path == f"/v2/{va.reference}/expire"
    card = make_request(Method.CARD)
    midtrans.charge_saved(card, "tok-ok")
    fake_midtrans.set_status(card.reference, "capture", "challenge")
    assert midtrans.cancel(card.reference).status is Status.CANCELED
    assert fake_midtrans.last("POST").path == f"/v2/{card.reference}/cancel"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable_gateway_error(midtrans, fake_midtrans, make_request, status):
    fake_midtrans.fail_next(status)
    with pytest.raises(GatewayError) as exc:
        midtrans.create_direct(make_request(Method.QRIS))
    assert exc.value.retryable


def test_5xx_json_is_gateway_error(midtrans, fake_midtrans):
    fake_midtrans.fail_next(500, {"status_code": "500", "status_message": "Sorry, we encountered internal server error"})
    with pytest.raises(GatewayError):
        midtrans.get_status("x")


def test_timeout_is_gateway_error(midtrans, fake_midtrans, make_request):
    fake_midtrans.delay_next(2.5)
    with pytest.raises(GatewayError):
        midtrans.create_direct(make_request(Method.QRIS))


def test_unreachable_is_gateway_error(make_request):
    gw = MidtransGateway({"server_key": "k", "core_api_url": "http://127.0.0.1:9", "timeout": "1"})
    with pytest.raises(GatewayError):
        gw.get_status("x")


def test_bad_request_is_declined(midtrans, fake_midtrans, make_request):
    fake_midtrans.fail_next(400, {"status_code": "400", "status_message": "One or more parameters in the payload is invalid."})
    with pytest.raises(GatewayDeclined) as exc:
        midtrans.create_direct(make_request(Method.QRIS))
    assert exc.value.code == "400" and not exc.value.retryable


def test_unauthorized_key_is_declined_and_test_connection(midtrans, fake_midtrans):
    assert "server key accepted" in midtrans.test_connection()
    fake_midtrans.fail_next(401, {"status_code": "401", "status_message": "Access denied due to unauthorized transaction"})
    with pytest.raises(GatewayDeclined):
        midtrans.test_connection()


# --- webhooks -----------------------------------------------------------------------------
def _notified(midtrans, fake_midtrans, make_request, status="settlement"):
    request = make_request(Method.VA_BCA)
    midtrans.create_direct(request)
    fake_midtrans.set_status(request.reference, status)
    return request, fake_midtrans.notification(request.reference)


def test_webhook_verified_and_parsed(midtrans, fake_midtrans, make_request):
    request, body = _notified(midtrans, fake_midtrans, make_request)
    event = midtrans.parse_webhook({}, json.dumps(body).encode())
    assert event.reference == request.reference
    assert event.claimed_status == "settlement"
    assert event.kind == "midtrans.settlement"
    # Midtrans re-sends until it gets a 2xx: the same notification is the same event.
    assert midtrans.parse_webhook({}, json.dumps(body).encode()).event_id == event.event_id


def test_webhook_with_wrong_server_key_is_rejected(midtrans, fake_midtrans, make_request):
    _, body = _notified(midtrans, fake_midtrans, make_request)
    forged = fake_midtrans.notification(body["order_id"], server_key="someone-else")
    with pytest.raises(WebhookRejected):
        midtrans.parse_webhook({}, json.dumps(forged).encode())


def test_webhook_tampered_amount_is_rejected(midtrans, fake_midtrans, make_request):
    _, body = _notified(midtrans, fake_midtrans, make_request)
    body["gross_amount"] = "1.00"
    with pytest.raises(WebhookRejected):
        midtrans.parse_webhook({}, json.dumps(body).encode())


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"order_id": "x"}',
                                 b'{"order_id": "x", "status_code": "200", "gross_amount": "1.00"}'])
def test_malformed_webhook_is_rejected(midtrans, raw):
    with pytest.raises(WebhookRejected):
        midtrans.parse_webhook({}, raw)


def test_refund_before_settlement_is_refused(midtrans, fake_midtrans, make_request):
    """Midtrans refunds settled payments only; a card still in `capture` must be cancelled instead."""
    request = make_request(Method.CARD)
    midtrans.charge_saved(request, "tok-ok")
    with pytest.raises(GatewayDeclined) as exc:
        midtrans.refund(request.reference, Money(150_000), refund_key="rf-early", reason="x")
    assert exc.value.code == "412"


@pytest.mark.parametrize(("sandbox", "core", "snap"), [
    (True, "https://api.sandbox.midtrans.com", "https://app.sandbox.midtrans.com/snap/v1"),
    (False, "https://api.midtrans.com", "https://app.midtrans.com/snap/v1"),
])
def test_sandbox_flag_picks_midtrans_hosts(sandbox, core, snap):
    gw = MidtransGateway({"server_key": "k"}, sandbox=sandbox)
    assert gw._core.api_config.get_core_api_base_url() == core
    assert gw._snap.api_config.get_snap_base_url() == snap


def test_only_creates_carry_the_notification_url(midtrans, fake_midtrans, make_request):
    request = make_request(Method.QRIS)
    midtrans.create_direct(request)
    midtrans.get_status(request.reference)
    assert "x-override-notification" in fake_midtrans.last("POST", "/v2/charge").headers
    assert "x-override-notification" not in fake_midtrans.last("GET").headers
