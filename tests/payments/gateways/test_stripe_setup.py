"""Contract tests: saving a card without a payment through Stripe (Checkout Session ``mode=setup``, its
SetupIntent and PaymentMethod) against the local Stripe fake, then charging the saved card off-session."""

from __future__ import annotations

import datetime as dt
import json

import pytest

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
from jasa.payments.gateways.stripe import SETUP_INTENT_STATUS, StripeGateway

from .fakes.stripe import expands, flat


def _setup_request(reference: str = "setup-0001", **fields) -> SetupRequest:
    defaults = dict(reference=reference, currency="IDR", description="Acme Studio", customer_name="Budi Santoso",
                    customer_email="budi@example.test", return_url="https://jasa.example/portal/methods/setups/x/",
                    notification_url="https://jasa.example/webhooks/stripe")
    return SetupRequest(**{**defaults, **fields})


def _form(fake) -> dict[str, str]:
    return {k: v[-1] for k, v in fake.last("POST", "/v1/checkout/sessions").form().items()}


def test_stripe_saves_without_payment():
    assert saves_without_payment(StripeGateway)


def test_start_is_a_setup_session_creating_a_customer(stripe_gw, fake_stripe, frozen_clock):
    setup = stripe_gw.start_setup(_setup_request(expires_in_seconds=3600))
    assert setup.status is SetupStatus.PENDING
    assert setup.gateway_reference.startswith("cs_")
    assert setup.redirect_url.startswith("https://checkout.stripe.com/")
    form = _form(fake_stripe)
    assert form["mode"] == "setup"
    assert form["payment_method_types[0]"] == "card"
    assert form["currency"] == "idr"
    assert form["customer_creation"] == "always" and form["customer_email"] == "budi@example.test"
    assert "customer" not in form
    assert not any(k.startswith("line_items") for k in form)  # nothing is charged
    assert form["client_reference_id"] == "setup-0001"
    assert form["metadata[jasa_reference]"] == "setup-0001"
    assert form["setup_intent_data[metadata][jasa_reference]"] == "setup-0001"  # webhooks of the SetupIntent name it
    assert form["success_url"] == form["cancel_url"] == "https://jasa.example/portal/methods/setups/x/"
    assert int(form["expires_at"]) == int((clock.now() + dt.timedelta(hours=1)).timestamp())
    assert fake_stripe.last("POST").headers["idempotency-key"] == "setup-setup-0001"


def test_start_reuses_the_clients_customer(stripe_gw, fake_stripe):
    fake_stripe.attach("pm_card_mastercard", "cus_known")
    stripe_gw.start_setup(_setup_request(saved_tokens=("cus_known/pm_card_mastercard",)))
    form = _form(fake_stripe)
    assert form["customer"] == "cus_known"
    assert "customer_creation" not in form and "customer_email" not in form  # Stripe takes one or the other


def test_start_retry_is_the_same_session(stripe_gw, fake_stripe):
    first = stripe_gw.start_setup(_setup_request())
    again = stripe_gw.start_setup(_setup_request())
    assert again.gateway_reference == first.gateway_reference
    assert len(fake_stripe.sessions) == 1


def test_setup_expiry_is_clamped_to_stripes_minimum(stripe_gw, fake_stripe, frozen_clock):
    stripe_gw.start_setup(_setup_request(expires_in_seconds=60))
    assert int(_form(fake_stripe)["expires_at"]) == int((clock.now() + dt.timedelta(minutes=30)).timestamp())


def test_open_session_is_pending_even_after_a_declined_card(stripe_gw, fake_stripe):
    started = stripe_gw.start_setup(_setup_request())
    assert stripe_gw.get_setup("setup-0001", gateway_reference=started.gateway_reference).status is SetupStatus.PENDING
    fake_stripe.fail_setup_attempt(started.gateway_reference, "insufficient_funds", "Your card has insufficient funds.")
    after = stripe_gw.get_setup("setup-0001", gateway_reference=started.gateway_reference)
    assert after.status is SetupStatus.PENDING  # the client may try another card on Stripe's page
    assert after.redirect_url == started.redirect_url
    assert (after.failure_code, after.failure_message) == ("insufficient_funds", "Your card has insufficient funds.")
    assert after.saved_method is None
    sent = fake_stripe.last("GET", "/v1/checkout/sessions/")
    assert set(expands(flat(sent))) == {"setup_intent", "setup_intent.payment_method"}


def test_completed_setup_gives_the_customers_card(stripe_gw, fake_stripe):
    started = stripe_gw.start_setup(_setup_request())
    intent = fake_stripe.complete_setup(started.gateway_reference, "pm_card_mastercard")
    done = stripe_gw.get_setup("setup-0001", gateway_reference=started.gateway_reference)
    assert done.status is SetupStatus.SUCCEEDED
    assert done.redirect_url == ""
    token = done.saved_method
    assert token.token == f"{intent['customer']}/pm_card_mastercard"
    assert (token.brand, token.masked, token.expiry_month, token.expiry_year) == (
        "mastercard", "**** **** **** 4444", 12, 2030)


def test_the_saved_card_is_charged_off_session(stripe_gw, fake_stripe, make_request):
    started = stripe_gw.start_setup(_setup_request())
    fake_stripe.complete_setup(started.gateway_reference)
    token = stripe_gw.get_setup("setup-0001", gateway_reference=started.gateway_reference).saved_method.token
    payment = stripe_gw.charge_saved(make_request(amount=99_000), token)
    assert payment.status is Status.SUCCEEDED and payment.captured == Money(99_000)
    sent = {k: v[-1] for k, v in fake_stripe.last("POST", "/v1/payment_intents").form().items()}
    assert (sent["customer"], sent["payment_method"], sent["off_session"]) == (*token.split("/"), "true")


@pytest.mark.parametrize(("intent_status", "error", "expected"), [
    ("succeeded", None, SetupStatus.SUCCEEDED),
    ("processing", None, SetupStatus.PENDING),
    ("requires_action", None, SetupStatus.PENDING),
    ("canceled", None, SetupStatus.CANCELED),
    ("requires_payment_method", {"code": "card_declined", "decline_code": "expired_card",
                                 "message": "Your card has expired."}, SetupStatus.FAILED),
])
def test_complete_session_is_decided_by_its_setup_intent(stripe_gw, fake_stripe, intent_status, error, expected):
    started = stripe_gw.start_setup(_setup_request())
    fake_stripe.complete_setup(started.gateway_reference)
    fake_stripe.set_setup_intent(started.gateway_reference, status=intent_status, last_setup_error=error)
    result = stripe_gw.get_setup("setup-0001", gateway_reference=started.gateway_reference)
    assert result.status is expected
    if expected is SetupStatus.FAILED:
        assert (result.failure_code, result.failure_message) == ("expired_card", "Your card has expired.")


def test_setup_intent_table_covers_stripes_statuses():
    assert set(SETUP_INTENT_STATUS) == {"requires_payment_method", "requires_confirmation", "requires_action",
                                        "processing", "canceled", "succeeded"}


def test_unknown_setup_intent_status_is_a_gateway_error(stripe_gw, fake_stripe):
    started = stripe_gw.start_setup(_setup_request())
    fake_stripe.complete_setup(started.gateway_reference)
    fake_stripe.set_setup_intent(started.gateway_reference, status="brand_new")
    with pytest.raises(GatewayError):
        stripe_gw.get_setup("setup-0001", gateway_reference=started.gateway_reference)


def test_cancel_expires_an_open_session(stripe_gw, fake_stripe):
    started = stripe_gw.start_setup(_setup_request())
    canceled = stripe_gw.cancel_setup("setup-0001", gateway_reference=started.gateway_reference)
    assert canceled.status is SetupStatus.EXPIRED
    assert fake_stripe.calls("POST", f"/v1/checkout/sessions/{started.gateway_reference}/expire")
    # cancelling a finished setup changes nothing
    assert stripe_gw.cancel_setup("setup-0001", gateway_reference=started.gateway_reference).status is SetupStatus.EXPIRED
    assert len(fake_stripe.calls("POST", "/expire")) == 1


def test_cancel_leaves_a_completed_setup_alone(stripe_gw, fake_stripe):
    started = stripe_gw.start_setup(_setup_request())
    fake_stripe.complete_setup(started.gateway_reference)
    assert stripe_gw.cancel_setup("setup-0001", gateway_reference=started.gateway_reference).status is (
        SetupStatus.SUCCEEDED)
    assert not fake_stripe.calls("POST", "/expire")


def test_setup_without_a_session_id_or_unknown_is_not_found(stripe_gw):
    with pytest.raises(PaymentNotFound):
        stripe_gw.get_setup("setup-0001")  # Stripe cannot search sessions by metadata
    with pytest.raises(PaymentNotFound):
        stripe_gw.get_setup("setup-0001", gateway_reference="cs_test_nope")


def test_a_payment_session_is_not_a_setup(stripe_gw, make_request):
    payment = stripe_gw.create_checkout(make_request())
    with pytest.raises(GatewayDeclined):
        stripe_gw.get_setup("pay-0001", gateway_reference=payment.gateway_reference)


def test_stripe_refusal_is_declined(stripe_gw, fake_stripe):
    fake_stripe.fail_next(400, {"error": {"type": "invalid_request_error", "code": "parameter_invalid_empty",
                                          "message": "You passed an empty string for 'success_url'."}})
    with pytest.raises(GatewayDeclined) as refused:
        stripe_gw.start_setup(_setup_request())
    assert refused.value.code == "parameter_invalid_empty"
    with pytest.raises(GatewayDeclined):
        stripe_gw.start_setup(_setup_request(return_url=""))  # never sent: Checkout needs one


def test_unknown_customer_is_declined(stripe_gw):
    with pytest.raises(GatewayDeclined):
        stripe_gw.start_setup(_setup_request(saved_tokens=("cus_gone/pm_card_visa",)))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_a_gateway_error(stripe_gw, fake_stripe, status):
    fake_stripe.fail_next(status)
    with pytest.raises(GatewayError):
        stripe_gw.start_setup(_setup_request())
    started = stripe_gw.start_setup(_setup_request())  # the retry creates it, once
    fake_stripe.fail_next(status)
    with pytest.raises(GatewayError):
        stripe_gw.get_setup("setup-0001", gateway_reference=started.gateway_reference)
    assert len(fake_stripe.sessions) == 1


def test_timeout_is_a_gateway_error(stripe_gw, fake_stripe):
    fake_stripe.delay_next(1.5)
    with pytest.raises(GatewayError):
        stripe_gw.start_setup(_setup_request())


def test_setup_webhooks_name_the_setup(stripe_gw, fake_stripe, frozen_clock):
    started = stripe_gw.start_setup(_setup_request())
    session = fake_stripe.sessions[started.gateway_reference]
    intent = fake_stripe.complete_setup(started.gateway_reference)
    now = int(clock.now().timestamp())
    for kind, obj in (("checkout.session.completed", fake_stripe._public(session)),
                      ("setup_intent.succeeded", intent),
                      ("setup_intent.setup_failed", fake_stripe.fail_setup_attempt(started.gateway_reference))):
        body = fake_stripe.event(kind, json.loads(json.dumps(obj)))
        event = stripe_gw.parse_webhook({"Stripe-Signature": fake_stripe.signature(body, now)}, body)
        assert (event.kind, event.reference) == (kind, "setup-0001")
