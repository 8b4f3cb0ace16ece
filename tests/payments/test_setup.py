# ruff: noqa: F811 - the fake_stripe fixture imported from tests.payments.gateways.conftest
"""The payment core saving a card without a payment (services_setup), with the real sandbox and, for Stripe,
the local Stripe fake over HTTP: start (idempotent, consent recorded), the gateway's word applied once and
forward only (on return, on a webhook, by reconciliation), failures, expiry, and the token charged off-session
with payment_charge_saved."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.core import clock
from jasa.core.errors import Conflict, ValidationError
from jasa.core.models import AuditEntry
from jasa.payments import signals
from jasa.payments.gateways.base import SetupStatus, Status
from jasa.payments.models import SavedMethodSetup, SavedPaymentMethod, WebhookEvent
from jasa.payments.services import GatewayUnavailable, payment_charge_saved
from jasa.payments.services_setup import (
    saved_method_setup_start,
    saved_method_setup_sync,
    saved_method_setups_reconcile,
)
from jasa.sandbox import services as sandbox
from jasa.sandbox import webhooks as sandbox_webhooks
from jasa.sandbox.models import SandboxFaults, SandboxPayment, SandboxWebhook
from tests.payments.gateways.conftest import fake_stripe  # noqa: F401 - the local Stripe fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def budi(workspace, client_factory):
    """A client of `acme`, whose gateway is the sandbox (no settings: the sandbox is the default)."""
    return client_factory(workspace, name="Budi", email="budi@example.test")


def _verify(setup: SavedMethodSetup, number: str = "4811111111111114", expiry=(12, 2030)) -> SandboxPayment:
    """The client types a card on the sandbox's hosted setup page."""
    row = SandboxPayment.objects.get(reference=setup.reference)
    return sandbox.payment_pay_card(row.pk, number=number, exp_month=expiry[0], exp_year=expiry[1], cvc="123")


def _deliver_sandbox_notification(http, setup, django_capture_on_commit_callbacks):
    row = SandboxWebhook.objects.filter(payment__reference=setup.reference).latest("created_at")
    headers, body = sandbox_webhooks.build(row)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/webhooks/sandbox", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    return row


def test_start_opens_the_gateways_page_once_and_records_consent(budi, frozen_clock):
    setup = saved_method_setup_start(client=budi, idempotency_key="portal:1")
    assert (setup.status, setup.gateway, setup.workspace_id) == (SetupStatus.PENDING, "sandbox", budi.workspace_id)
    assert setup.consent_at == clock.now() and setup.expires_at == clock.now() + dt.timedelta(hours=1)
    assert setup.gateway_reference.startswith("sbx_") and setup.submitted_at is not None
    assert setup.redirect_url.endswith(f"/sandbox/checkout/{setup.gateway_reference}/")
    row = SandboxPayment.objects.get(reference=setup.reference)
    assert row.return_url.endswith(f"/portal/methods/setups/{setup.pk}/")  # the client comes back to jasa
    assert row.expires_at == clock.now() + dt.timedelta(hours=1)
    again = saved_method_setup_start(client=budi, idempotency_key="portal:1")
    assert again.pk == setup.pk and SavedMethodSetup.objects.count() == 1
    assert SandboxPayment.objects.filter(kind="setup").count() == 1
    entry = AuditEntry.objects.get(action="saved_method_setup.start")
    assert entry.object_id == str(setup.pk) and entry.after["gateway"] == "sandbox"


def test_the_key_of_another_client_is_refused(budi, client_factory):
    saved_method_setup_start(client=budi, idempotency_key="portal:1")
    with pytest.raises(Conflict):
        saved_method_setup_start(client=client_factory(budi.workspace), idempotency_key="portal:1")


def test_verified_card_is_saved_once_with_the_setups_consent(budi, frozen_clock):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    started_at = setup.consent_at
    clock.advance(dt.timedelta(minutes=3))
    _verify(setup)
    finished = []
    signals.saved_method_setup_finished.connect(lambda sender, setup, **kw: finished.append(setup.status),
                                                weak=False, dispatch_uid="test-setup")
    try:
        done = saved_method_setup_sync(setup.pk)
        assert saved_method_setup_sync(setup.pk).pk == done.pk  # the second read changes nothing
    finally:
        signals.saved_method_setup_finished.disconnect(dispatch_uid="test-setup")
    assert done.status == SetupStatus.SUCCEEDED and done.finished_at == clock.now()
    saved = SavedPaymentMethod.objects.get()
    assert done.saved_method == saved
    assert (saved.client, saved.gateway, saved.brand, saved.masked) == (budi, "sandbox", "visa", "481111******1114")
    assert saved.token.startswith("tok_") and saved.consent_at == started_at  # agreed when they asked to add it
    assert AuditEntry.objects.filter(action="saved_method_setup.succeeded").count() == 1
    assert AuditEntry.objects.filter(action="saved_method.create").count() == 1


def test_signal_once_after_commit(budi, django_capture_on_commit_callbacks):
    finished = []
    signals.saved_method_setup_finished.connect(lambda sender, setup, **kw: finished.append(
        (setup.status, setup.saved_method.masked)), weak=False, dispatch_uid="test-setup-signal")
    try:
        setup = saved_method_setup_start(client=budi, idempotency_key="k")
        _verify(setup)
        with django_capture_on_commit_callbacks(execute=True):
            saved_method_setup_sync(setup.pk)
        with django_capture_on_commit_callbacks(execute=True):
            saved_method_setup_sync(setup.pk)
    finally:
        signals.saved_method_setup_finished.disconnect(dispatch_uid="test-setup-signal")
    assert finished == [("succeeded", "481111******1114")]


def test_the_notification_triggers_the_re_read(budi, client, django_capture_on_commit_callbacks):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    _verify(setup)
    row = _deliver_sandbox_notification(client, setup, django_capture_on_commit_callbacks)
    assert row.event_type == "setup.succeeded"
    setup.refresh_from_db()
    assert setup.status == SetupStatus.SUCCEEDED and setup.saved_method is not None
    event = WebhookEvent.objects.get()
    assert (event.state, event.workspace_id, event.payment_id) == (WebhookEvent.PROCESSED, budi.workspace_id, None)


def test_a_notification_is_not_the_truth(budi, client, django_capture_on_commit_callbacks):
    """A notification claiming success for a setup the gateway has not finished changes nothing."""
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    headers, body = sandbox_webhooks.signed_notification(
        secret=sandbox.default_secret("default"), merchant_id="default", event_id="evt_claim",
        event_type="setup.succeeded", data={"reference": setup.reference, "status": "succeeded"},
        sent_at=int(clock.now().timestamp()))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/webhooks/sandbox", data=body, content_type="application/json",
                           headers=headers).status_code == 200
    setup.refresh_from_db()
    assert setup.status == SetupStatus.PENDING and not SavedPaymentMethod.objects.exists()


def test_a_declined_card_fails_it(budi):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    _verify(setup, "4911111111111113")
    failed = saved_method_setup_sync(setup.pk)
    assert (failed.status, failed.failure_code) == (SetupStatus.FAILED, "card_declined")
    assert failed.failure_message == "The bank declined the card." and failed.finished_at is not None
    assert not SavedPaymentMethod.objects.exists()


def test_forward_only_a_finished_setup_is_never_asked_again(budi):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    _verify(setup, "4911111111111113")
    saved_method_setup_sync(setup.pk)
    SandboxPayment.objects.filter(reference=setup.reference).update(status="paid")  # even if the gateway changed
    assert saved_method_setup_sync(setup.pk).status == SetupStatus.FAILED


def test_abandoned_setups_expire_and_are_closed_at_the_gateway(budi, frozen_clock):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    fresh = saved_method_setup_start(client=budi, idempotency_key="k2")
    clock.advance(dt.timedelta(minutes=11))
    counts = saved_method_setups_reconcile()  # quiet for 10 minutes: asked, still pending
    assert counts == {"checked": 2, "finished": 0, "errors": 0}
    assert saved_method_setups_reconcile()["checked"] == 0  # asked just now: not again yet
    _verify(fresh)  # this one the client finishes, and no notification comes
    clock.advance(dt.timedelta(minutes=50))
    assert saved_method_setups_reconcile() == {"checked": 2, "finished": 2, "errors": 0}
    setup.refresh_from_db()
    fresh.refresh_from_db()
    assert setup.status == SetupStatus.EXPIRED and fresh.status == SetupStatus.SUCCEEDED
    # the gateway's page is closed too: the client can no longer save a card on it
    assert SandboxPayment.objects.get(reference=setup.reference).status == "expired"


def test_start_when_the_gateway_is_down_then_a_retry(budi, frozen_clock):
    from jasa.sandbox.services import merchant_for_credentials

    merchant = merchant_for_credentials({})
    SandboxFaults.objects.create(merchant=merchant, api_fault=SandboxFaults.API_5XX, api_fault_calls=1)
    with pytest.raises(GatewayUnavailable):
        saved_method_setup_start(client=budi, idempotency_key="k")
    setup = SavedMethodSetup.objects.get()
    assert setup.status == SetupStatus.PENDING and setup.submitted_at is None
    retried = saved_method_setup_start(client=budi, idempotency_key="k")
    assert retried.pk == setup.pk and retried.submitted_at is not None and retried.redirect_url


def test_a_timeout_after_the_work_is_finished_by_reconciliation(budi, frozen_clock):
    """The gateway did the work but its answer was lost: the next read finds the same setup."""
    from jasa.sandbox.services import merchant_for_credentials

    SandboxFaults.objects.create(merchant=merchant_for_credentials({}), api_fault=SandboxFaults.API_TIMEOUT,
                                 api_fault_calls=1)
    with pytest.raises(GatewayUnavailable):
        saved_method_setup_start(client=budi, idempotency_key="k")
    setup = SavedMethodSetup.objects.get()
    clock.advance(dt.timedelta(minutes=11))
    saved_method_setups_reconcile()
    setup.refresh_from_db()
    assert setup.status == SetupStatus.PENDING and setup.gateway_reference.startswith("sbx_")
    assert SandboxPayment.objects.filter(kind="setup").count() == 1


def test_no_setup_where_the_gateway_cannot(ws, client_factory):
    """The business's gateway (the in-test one) saves cards only while paying."""
    with pytest.raises(ValidationError):
        saved_method_setup_start(client=client_factory(ws), idempotency_key="k")
    assert not SavedMethodSetup.objects.exists()


def test_no_setup_when_the_business_switched_cards_off(budi):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=budi.workspace, gateway="sandbox", is_default=True, enabled_methods=["va_bca"])
    with pytest.raises(ValidationError):
        saved_method_setup_start(client=budi, idempotency_key="k")


def test_the_saved_card_pays_an_invoice_off_session(budi, invoice_factory):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    _verify(setup)
    saved = saved_method_setup_sync(setup.pk).saved_method
    invoice = invoice_factory(budi.workspace, 250_000, client=budi)
    payment = payment_charge_saved(invoice=invoice, saved_method=saved, idempotency_key="subscription:1:2026-12")
    invoice.refresh_from_db()
    assert payment.status == Status.SUCCEEDED and payment.off_session and invoice.status == "paid"


# --- Stripe, over HTTP to the local fake ------------------------------------------------------------


@pytest.fixture
def stripe_ws(workspace, fake_stripe):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="stripe", is_default=True, credentials={
        "secret_key": fake_stripe.secret_key, "webhook_secret": fake_stripe.webhook_secret,
        "api_base": fake_stripe.url, "timeout": "1"})
    return workspace


def _stripe_event(client, fake_stripe, kind, obj, django_capture_on_commit_callbacks, *, secret=None):
    import json

    body = fake_stripe.event(kind, json.loads(json.dumps(obj)))
    headers = {"Stripe-Signature": fake_stripe.signature(body, int(clock.now().timestamp()), secret)}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/webhooks/stripe", data=body, content_type="application/json", headers=headers)


def test_stripe_setup_webhook_then_off_session_charge(stripe_ws, budi, fake_stripe, client, invoice_factory,
                                                      django_capture_on_commit_callbacks):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    assert setup.gateway == "stripe" and setup.gateway_reference.startswith("cs_")
    assert setup.redirect_url.startswith("https://checkout.stripe.com/")
    assert setup.gateway_account.gateway == "stripe"
    intent = fake_stripe.complete_setup(setup.gateway_reference)
    session = fake_stripe._public(fake_stripe.sessions[setup.gateway_reference])

    forged = _stripe_event(client, fake_stripe, "checkout.session.completed", session,
                           django_capture_on_commit_callbacks, secret="whsec_someone_else")
    assert forged.status_code == 400
    setup.refresh_from_db()
    assert setup.status == SetupStatus.PENDING

    assert _stripe_event(client, fake_stripe, "checkout.session.completed", session,
                         django_capture_on_commit_callbacks).status_code == 200
    assert _stripe_event(client, fake_stripe, "setup_intent.succeeded", intent,
                         django_capture_on_commit_callbacks).status_code == 200  # a second trigger: nothing more
    setup.refresh_from_db()
    assert setup.status == SetupStatus.SUCCEEDED
    saved = SavedPaymentMethod.objects.get()
    assert saved.token == f"{intent['customer']}/pm_card_visa" and saved.masked == "**** **** **** 4242"
    assert list(WebhookEvent.objects.values_list("state", flat=True)) == [WebhookEvent.PROCESSED] * 2

    invoice = invoice_factory(stripe_ws, 150_000, client=budi)
    payment = payment_charge_saved(invoice=invoice, saved_method=saved, idempotency_key="renewal:1")
    assert payment.status == Status.SUCCEEDED
    sent = {k: v[-1] for k, v in fake_stripe.last("POST", "/v1/payment_intents").form().items()}
    assert (sent["customer"], sent["payment_method"]) == (intent["customer"], "pm_card_visa")

    # a second card for the same client goes to the same Stripe customer
    saved_method_setup_start(client=budi, idempotency_key="k2")
    form = {k: v[-1] for k, v in fake_stripe.last("POST", "/v1/checkout/sessions").form().items()}
    assert form["customer"] == intent["customer"] and "customer_creation" not in form


def test_stripe_setup_failed_attempt_stays_pending_then_expires(stripe_ws, budi, fake_stripe, client, frozen_clock,
                                                                 django_capture_on_commit_callbacks):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    intent = fake_stripe.fail_setup_attempt(setup.gateway_reference)
    assert _stripe_event(client, fake_stripe, "setup_intent.setup_failed", intent,
                         django_capture_on_commit_callbacks).status_code == 200
    setup.refresh_from_db()
    assert setup.status == SetupStatus.PENDING and setup.failure_message == "Your card was declined."
    clock.advance(dt.timedelta(hours=1, minutes=1))
    saved_method_setups_reconcile()
    setup.refresh_from_db()
    assert setup.status == SetupStatus.EXPIRED
    assert fake_stripe.sessions[setup.gateway_reference]["status"] == "expired"  # closed at Stripe first


def test_stripe_start_whose_answer_was_lost_is_given_up(stripe_ws, budi, fake_stripe, frozen_clock):
    fake_stripe.fail_next(503)
    with pytest.raises(GatewayUnavailable):
        saved_method_setup_start(client=budi, idempotency_key="k")
    clock.advance(dt.timedelta(minutes=11))
    saved_method_setups_reconcile()
    setup = SavedMethodSetup.objects.get()
    assert (setup.status, setup.failure_code) == (SetupStatus.FAILED, "not_submitted")


def test_stripe_refusal_fails_the_setup(stripe_ws, budi, fake_stripe):
    fake_stripe.fail_next(400, {"error": {"type": "invalid_request_error", "message": "Invalid currency: idr"}})
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    assert setup.status == SetupStatus.FAILED and setup.failure_message == "Invalid currency: idr"


def test_reconciliation_survives_a_silent_gateway(stripe_ws, budi, fake_stripe, frozen_clock):
    setup = saved_method_setup_start(client=budi, idempotency_key="k")
    clock.advance(dt.timedelta(minutes=11))
    fake_stripe.fail_next(503)
    assert saved_method_setups_reconcile() == {"checked": 1, "finished": 0, "errors": 1}
    assert saved_method_setups_reconcile()["checked"] == 0  # asked just now, even without an answer
    setup.refresh_from_db()
    assert setup.status == SetupStatus.PENDING
