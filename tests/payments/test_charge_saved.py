"""Off-session charges of a saved method through the core (payment_charge_saved): what is refused before
any gateway call, and what the sandbox's built-in tokens do — an expired card fails with its reason, a
card whose bank wants the client present waits for them, who then finish it on the gateway's page."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from jasa.core import clock
from jasa.core.errors import ValidationError
from jasa.payments import signals
from jasa.payments.gateways.base import Status
from jasa.payments.models import InvoiceStatus, LedgerEntry, PaymentIntent, SavedPaymentMethod
from jasa.payments.services import payment_charge_saved, payment_sync, saved_method_remove

pytestmark = pytest.mark.django_db


def saved(workspace, client, *, gateway="testpay", token="tok-ok", method="card") -> SavedPaymentMethod:
    return SavedPaymentMethod.objects.create(workspace=workspace, client=client, gateway=gateway, token=token,
                                             method=method, brand="visa", masked="481111******1114",
                                             expiry_month=12, expiry_year=2030, consent_at=clock.now())


def assert_refused(invoice, method, fakegw, *, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        payment_charge_saved(invoice=invoice, saved_method=method, idempotency_key="renewal:1")
    assert refused.value.field == "saved_method" and refused.value.message == says
    assert not PaymentIntent.objects.filter(invoice=invoice).exists()
    assert fakegw.create_calls == []  # refused before the gateway is asked
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


# --- refused before any charge --------------------------------------------------------------------


def test_a_removed_method_is_refused_even_from_a_stale_copy(ws, invoice_factory, client_factory, fakegw):
    client = client_factory(ws)
    method = saved(ws, client)
    saved_method_remove(method)  # `method` still says is_active=True: the caller's copy is stale
    assert_refused(invoice_factory(ws, client=client), method, fakegw, says="Metode tersimpan tersebut sudah dihapus.")


def test_another_clients_method_is_refused(ws, invoice_factory, client_factory, fakegw):
    method = saved(ws, client_factory(ws))
    assert_refused(invoice_factory(ws, client=client_factory(ws)), method, fakegw, says="Metode tersimpan tersebut milik klien lain.")


def test_another_workspaces_method_is_refused(ws, invoice_factory, client_factory, workspace_factory, fakegw):
    other = workspace_factory()
    method = saved(other, client_factory(other))
    assert_refused(invoice_factory(ws), method, fakegw, says="Metode tersimpan tersebut milik bisnis lain.")


@pytest.mark.parametrize(("gateway", "method", "named"), [("testpay", "gopay", "Test gateway tidak dapat menagih GoPay"),
                                                          ("testpay", "va_bca", "Test gateway tidak dapat menagih "
                                                                                "Virtual account BCA"),
                                                          ("sandbox", "ovo", "Sandbox tidak dapat menagih OVO")])
def test_a_method_its_gateway_cannot_charge_off_session_is_refused(ws, invoice_factory, client_factory, fakegw,
                                                                  gateway, method, named):
    client = client_factory(ws)
    saved_method = saved(ws, client, gateway=gateway, method=method)
    # gateway and method by their labels, not their codes
    assert_refused(invoice_factory(ws, client=client), saved_method, fakegw,
                   says=f"{named} tersimpan tanpa kehadiran klien.")


@pytest.mark.parametrize(("gateway", "method", "named"), [("nonesuch", "card", "nonesuch tidak dapat menagih Kartu "
                                                                              "kredit atau debit"),
                                                          ("testpay", "cheque", "Test gateway tidak dapat menagih "
                                                                                "cheque")])
def test_a_method_jasa_does_not_know_is_refused_not_a_crash(ws, invoice_factory, client_factory, fakegw,
                                                           gateway, method, named):
    client = client_factory(ws)
    saved_method = saved(ws, client, gateway=gateway, method=method)
    # what jasa has no label for is named as stored
    assert_refused(invoice_factory(ws, client=client), saved_method, fakegw,
                   says=f"{named} tersimpan tanpa kehadiran klien.")


# --- the sandbox's built-in tokens, through the core ----------------------------------------------------


@pytest.fixture
def failed_signals():
    got = []

    def receiver(sender, payment, **kwargs):
        got.append(payment.pk)

    signals.payment_failed.connect(receiver, weak=False)
    yield got
    signals.payment_failed.disconnect(receiver)


def test_an_expired_card_fails_with_its_reason(workspace, invoice_factory, client_factory, failed_signals,
                                               django_capture_on_commit_callbacks):
    """jasa's copy of the expiry can be wrong (a card replaced by the bank); the gateway's word decides."""
    client = client_factory(workspace)
    method = saved(workspace, client, gateway="sandbox", token="tok_sandbox_expired")
    invoice = invoice_factory(workspace, 99_000, client=client)
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_charge_saved(invoice=invoice, saved_method=method, idempotency_key="renewal:expired")
    assert payment.status == Status.FAILED and payment.off_session
    assert payment.failure_code == "expired_card" and payment.failure_message == "The card has expired."
    assert failed_signals == [payment.pk]
    assert list(LedgerEntry.objects.filter(payment=payment).values_list("kind", flat=True)) == ["failed"]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    # the same key again is the same failed payment, not a second charge
    again = payment_charge_saved(invoice=invoice, saved_method=method, idempotency_key="renewal:expired")
    assert again.pk == payment.pk and PaymentIntent.objects.filter(invoice=invoice).count() == 1


def test_a_card_that_needs_the_client_waits_for_them_then_completes(workspace, invoice_factory, client_factory,
                                                                    client):
    from jasa.payments.views_client import pay_url

    customer = client_factory(workspace)
    method = saved(workspace, customer, gateway="sandbox", token="tok_sandbox_needs_auth")
    invoice = invoice_factory(workspace, 99_000, client=customer)
    payment = payment_charge_saved(invoice=invoice, saved_method=method, idempotency_key="renewal:3ds")

    assert payment.status == Status.REQUIRES_ACTION
    assert payment.failure_code == "authentication_required"
    assert payment.next_action["kind"] == "redirect"
    checkout = urlparse(payment.next_action["url"]).path
    assert checkout.startswith("/sandbox/checkout/") and payment.checkout_url == payment.next_action["url"]

    # the client's next step, from the pay link they are sent: the open payment, then "Continue paying"
    link = urlparse(pay_url(invoice))
    pay_page = client.get(f"{link.path}?{link.query}").content.decode()
    status_path = f"/pay/{invoice.pk}/payments/{payment.pk}/"
    assert status_path in pay_page
    status_page = client.get(f"{status_path}?{link.query}").content.decode()
    assert 'data-status="requires_action"' in status_page and f'href="{payment.next_action["url"]}"' in status_page
    assert 'name="otp"' in client.get(checkout).content.decode()  # the bank's 3-D Secure step
    client.post(f"{checkout}3ds/", {"otp": "112233"})

    payment = payment_sync(payment.pk)  # what the sandbox's webhook (or reconciliation) triggers
    assert payment.status == Status.SUCCEEDED
    assert payment.failure_code == "" and payment.failure_message == ""  # no failure left on a paid payment
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    status_page = client.get(f"{status_path}?{link.query}").content.decode()
    assert 'data-status="succeeded"' in status_page and 'id="receipt-html"' in status_page
