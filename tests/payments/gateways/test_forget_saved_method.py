"""Removing a saved method also deletes its token at the gateway (``forget_saved_method``), so nobody can
charge it with the business's keys afterwards: the sandbox revokes it, Stripe detaches the PaymentMethod,
Xendit expires the payment method. Midtrans documents no such call, so its adapter does not offer one.
Each adapter is tested against its local fake; the sandbox also through jasa's removal of a method."""

# ruff: noqa: F811 - pytest fixtures imported from tests.sandbox.fixtures
from __future__ import annotations

import pytest

from jasa.payments.gateways.base import GatewayDeclined, Method, forgets_saved_methods, gateway_class
from tests.sandbox.fixtures import merchant  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_which_adapters_can_forget():
    assert forgets_saved_methods(gateway_class("sandbox"))
    assert forgets_saved_methods(gateway_class("stripe"))
    assert forgets_saved_methods(gateway_class("xendit"))
    assert not forgets_saved_methods(gateway_class("midtrans"))  # no documented way to delete a saved_token_id


# --- sandbox ------------------------------------------------------------------------------------


@pytest.fixture
def sandbox_gw(merchant):
    from jasa.payments.gateways.sandbox import SandboxGateway

    return SandboxGateway(merchant.credentials, sandbox=True)


@pytest.fixture
def sandbox_token(merchant):
    from jasa.sandbox.models import SandboxToken

    return SandboxToken.objects.create(merchant=merchant, token="tok_budi_0001", last4="1114", exp_month=12,
                                       exp_year=2030)


def test_sandbox_revokes_the_token_and_refuses_a_charge_with_it(sandbox_gw, sandbox_token, make_request):
    assert sandbox_gw.charge_saved(make_request(Method.CARD), sandbox_token.token).status == "succeeded"
    sandbox_gw.forget_saved_method(sandbox_token.token)
    sandbox_token.refresh_from_db()
    assert sandbox_token.revoked
    with pytest.raises(GatewayDeclined) as exc:
        sandbox_gw.charge_saved(make_request(Method.CARD), sandbox_token.token)
    assert exc.value.code == "token_not_found"
    sandbox_gw.forget_saved_method(sandbox_token.token)  # again: still forgotten, no error


def test_sandbox_unknown_or_other_merchants_token_counts_as_gone(sandbox_gw, sandbox_token, workspace_factory):
    from jasa.payments.gateways.sandbox import SandboxGateway
    from jasa.sandbox.services import merchant_for_workspace

    sandbox_gw.forget_saved_method("tok_never_issued")
    other = SandboxGateway(merchant_for_workspace(workspace_factory(slug="lain")).credentials)
    other.forget_saved_method(sandbox_token.token)  # not theirs: they cannot revoke it
    sandbox_token.refresh_from_db()
    assert not sandbox_token.revoked


def test_sandbox_builtin_test_tokens_cannot_be_revoked(sandbox_gw, make_request):
    with pytest.raises(GatewayDeclined) as exc:
        sandbox_gw.forget_saved_method("tok_sandbox_success")
    assert exc.value.code == "token_builtin"
    assert sandbox_gw.charge_saved(make_request(Method.CARD), "tok_sandbox_success").status == "succeeded"


def test_removing_a_sandbox_card_in_jasa_revokes_it_at_the_sandbox(workspace, merchant, sandbox_token, client_factory,
                                                                    invoice_factory):
    """The client removes the card (portal / API): jasa marks it removed and the sandbox refuses it."""
    from jasa.payments.models import SavedPaymentMethod
    from jasa.payments.services_config import gateway_account_save
    from jasa.payments.services_methods import saved_method_remove_for_client

    gateway_account_save(workspace=workspace, gateway="sandbox", credentials=merchant.credentials, is_default=True)
    budi = client_factory(workspace, name="Budi", email="budi@example.test")
    saved = SavedPaymentMethod.objects.create(workspace=workspace, client=budi, gateway="sandbox",
                                              token=sandbox_token.token, method="card", masked="481111******1114",
                                              expiry_month=12, expiry_year=2030, consent_at=sandbox_token.created_at)
    removed = saved_method_remove_for_client(saved)
    assert removed.gateway_forgot and not removed.saved.is_active
    sandbox_token.refresh_from_db()
    assert sandbox_token.revoked


# --- Stripe -------------------------------------------------------------------------------------


def test_stripe_detaches_the_payment_method(stripe_gw, fake_stripe, make_request):
    fake_stripe.attach("pm_card_visa", "cus_budi")
    assert stripe_gw.charge_saved(make_request(Method.CARD), "cus_budi/pm_card_visa").status == "succeeded"
    stripe_gw.forget_saved_method("cus_budi/pm_card_visa")
    call = fake_stripe.last("POST")
    assert call.path == "/v1/payment_methods/pm_card_visa/detach"
    assert fake_stripe.attached["pm_card_visa"] is None
    with pytest.raises(GatewayDeclined):  # Stripe refuses a detached method for good
        stripe_gw.charge_saved(make_request(Method.CARD), "cus_budi/pm_card_visa")


def test_stripe_card_saved_at_checkout_is_detached(stripe_gw, fake_stripe, make_request):
    request = make_request(Method.CARD, save_method=True)
    session = stripe_gw.create_checkout(request)
    intent = fake_stripe.pay_session(session.gateway_reference)
    token = stripe_gw.get_status(request.reference, gateway_reference=intent["id"]).saved_method.token
    stripe_gw.forget_saved_method(token)
    assert fake_stripe.attached[token.split("/")[1]] is None


def test_stripe_unknown_method_counts_as_gone(stripe_gw, fake_stripe):
    stripe_gw.forget_saved_method("cus_x/pm_never_seen")
    assert fake_stripe.last("POST").path == "/v1/payment_methods/pm_never_seen/detach"


def test_stripe_malformed_token_is_declined(stripe_gw):
    with pytest.raises(GatewayDeclined):
        stripe_gw.forget_saved_method("cus_only/")


# --- Xendit -------------------------------------------------------------------------------------


def test_xendit_expires_the_payment_method(xendit, fake_xendit, make_request):
    assert xendit.charge_saved(make_request(Method.DANA), "pm-saved-0001").status == "succeeded"
    xendit.forget_saved_method("pm-saved-0001")
    assert fake_xendit.last("POST").path == "/v2/payment_methods/pm-saved-0001/expire"
    assert fake_xendit.saved_methods["pm-saved-0001"]["status"] == "EXPIRED"
    with pytest.raises(GatewayDeclined) as exc:
        xendit.charge_saved(make_request(Method.DANA), "pm-saved-0001")
    assert exc.value.code == "INVALID_TOKEN"


def test_xendit_unknown_method_counts_as_gone(xendit, fake_xendit):
    xendit.forget_saved_method("pm-never-seen")
    assert fake_xendit.last("POST").path == "/v2/payment_methods/pm-never-seen/expire"

