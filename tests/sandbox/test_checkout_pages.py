"""The hosted checkout pages, driven through Django's test client (the browser test does it in Chromium)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jasa.payments.gateways.base import Method, Status
from jasa.sandbox.models import SandboxFaults, SandboxPayment

pytestmark = pytest.mark.django_db


def _url(name, payment, **kw):
    return reverse(f"sandbox:{name}", args=[payment.gateway_reference])


@pytest.fixture
def checkout(gateway, make_request, workspace):
    workspace.refund_policy_en = "Full refund up to 24 hours before."
    workspace.save()
    request = make_request(return_url="http://127.0.0.1:8000/back", metadata={"surcharge_amount": "4000"})
    gateway.create_checkout(request)
    return SandboxPayment.objects.get(reference=request.reference)


def test_page_shows_amount_surcharge_policy_methods_and_trust(client, checkout):
    client.cookies["django_language"] = "en"
    page = client.get(_url("checkout", checkout), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "IDR 150,000" in page and "IDR 4,000" in page
    assert "Full refund up to 24 hours before." in page
    assert "never sees or stores your card" in page
    for value in ("card", "va_bca", "va_mandiri", "qris", "gopay", "ovo", "dana", "shopeepay", "indomaret", "alfamart"):
        assert f'value="{value}"' in page


def test_page_is_bilingual(client, checkout):
    page = client.get(_url("checkout", checkout), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Rp" in page and "Pilih cara membayar" in page


def test_allowed_methods_limit_the_list(client, gateway, make_request):
    request = make_request(allowed_methods=(Method.CARD, Method.QRIS))
    gateway.create_checkout(request)
    payment = SandboxPayment.objects.get(reference=request.reference)
    page = client.get(_url("checkout", payment)).content.decode()
    assert 'value="card"' in page and 'value="qris"' in page and 'value="va_bca"' not in page
    client.post(_url("choose_method", payment), {"method": "va_bca"})
    payment.refresh_from_db()
    assert payment.method == ""


def test_card_with_3ds_through_the_pages(client, checkout, gateway):
    client.post(_url("choose_method", checkout), {"method": "card"})
    response = client.post(_url("card", checkout),
                           {"number": "4000 0000 0000 3220", "expiry": "12/30", "cvc": "123"})
    assert response.status_code == 302
    page = client.get(_url("checkout", checkout)).content.decode()
    assert 'name="otp"' in page and "3220" in page
    client.post(_url("otp", checkout), {"otp": "111111"})
    assert gateway.get_status(checkout.reference).status is Status.REQUIRES_ACTION
    client.post(_url("otp", checkout), {"otp": "112233"})
    assert gateway.get_status(checkout.reference).status is Status.SUCCEEDED
    page = client.get(_url("checkout", checkout)).content.decode()
    assert 'id="result-title"' in page and 'href="http://127.0.0.1:8000/back"' in page
    checkout.refresh_from_db()
    assert checkout.card_last4 == "3220" and checkout.card_brand == "visa"


def test_bad_card_input_is_a_message_not_an_error(client, checkout):
    client.post(_url("choose_method", checkout), {"method": "card"})
    response = client.post(_url("card", checkout), {"number": "1234", "expiry": "13/99", "cvc": "x"}, follow=True)
    assert response.status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == SandboxPayment.PENDING and checkout.card_last4 == ""


def test_declined_card_shows_the_reason(client, checkout):
    client.post(_url("card", checkout), {"number": "4911111111111113", "expiry": "12/30", "cvc": "123"})
    page = client.get(_url("checkout", checkout), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "declined the card" in page


@pytest.mark.parametrize("method,marker", [("va_bca", 'id="va-number"'), ("va_mandiri", "70012"),
                                           ("qris", 'id="qris-image"'), ("alfamart", 'id="store-code"')])
def test_simulate_panel_pays_va_qris_and_store(client, checkout, gateway, method, marker):
    client.post(_url("choose_method", checkout), {"method": method})
    page = client.get(_url("checkout", checkout)).content.decode()
    assert marker in page and 'id="simulate-pay"' in page
    client.post(_url("simulate", checkout))
    assert gateway.get_status(checkout.reference).status is Status.SUCCEEDED


def test_no_simulate_panel_in_live_mode(client, merchant, make_request):
    from jasa.payments.gateways.sandbox import SandboxGateway

    live = SandboxGateway(merchant.credentials, sandbox=False)
    request = make_request(method=Method.VA_BNI)
    live.create_direct(request)
    payment = SandboxPayment.objects.get(reference=request.reference)
    assert 'id="simulate-pay"' not in client.get(_url("checkout", payment)).content.decode()
    client.post(_url("simulate", payment))
    assert live.get_status(request.reference).status is Status.REQUIRES_ACTION


def test_ewallet_decline_page(client, checkout, gateway):
    client.post(_url("choose_method", checkout), {"method": "ovo"})
    client.post(_url("ewallet", checkout), {"decision": "decline"})
    assert gateway.get_status(checkout.reference).status is Status.FAILED


def test_unknown_payment_is_404(client):
    assert client.get(reverse("sandbox:checkout", args=["sbx_nope"])).status_code == 404
    assert client.get(reverse("sandbox:qr", args=["sbx_nope"])).status_code == 404


def test_faults_page_for_gateway_managers_only(client, workspace, merchant, member_factory, user_factory):
    url = reverse("sandbox:faults")
    assert client.get(url).status_code == 302  # log in first
    staff = member_factory(workspace, role="staff")
    client.force_login(staff.user)
    assert client.get(url).status_code == 403
    owner = workspace.memberships.get(role="owner").user
    client.force_login(owner)
    assert client.get(url).status_code == 200
    response = client.post(url, {"merchant": merchant.merchant_id, "webhook_duplicate": "on",
                                 "webhook_delay_seconds": "5", "api_fault": "5xx", "api_fault_calls": "2"})
    assert response.status_code == 302
    faults = SandboxFaults.objects.get(merchant=merchant)
    assert faults.webhook_duplicate and faults.api_fault == "5xx" and faults.api_fault_calls == 2
    client.post(url, {"merchant": "global", "webhook_lost": "on"})  # not a superuser: falls back to own merchant
    assert not SandboxFaults.objects.filter(merchant__isnull=True).exists()


def test_demo_workspace_pays_through_the_sandbox_with_every_method(db):
    from jasa.accounts.models import Workspace
    from jasa.core.demo import DEMO_SLUG, demo_load
    from jasa.payments.connect import account_for, gateway_for
    from jasa.payments.gateways.sandbox import SandboxGateway

    demo_load(progress=lambda _: None)
    workspace = Workspace.objects.get(slug=DEMO_SLUG)
    account = account_for(workspace, "sandbox")
    assert account.is_default and set(account.enabled_methods) == {m.value for m in Method}
    adapter = gateway_for(workspace, "sandbox")
    assert isinstance(adapter, SandboxGateway) and adapter.merchant_id == f"ws_{workspace.pk.hex}"
    assert adapter.test_connection()


@pytest.mark.parametrize("method", [Method.VA_PERMATA, Method.INDOMARET, Method.QRIS])
def test_simulator_pays_by_number_code_or_payload(client, gateway, make_request, method):
    request = make_request(method=method)
    action = gateway.create_direct(request).next_action
    code = action.va_number or action.store_code or action.qr_string
    url = reverse("sandbox:simulator")
    assert client.get(url).status_code == 200
    response = client.post(url, {"code": code}, follow=True)
    assert response.status_code == 200
    assert gateway.get_status(request.reference).status is Status.SUCCEEDED
    again = client.post(url, {"code": code}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No open test payment" in again


def test_card_number_is_kept_nowhere(client, checkout):
    from django.core import serializers

    from jasa.core.models import AuditEntry
    from jasa.sandbox.models import SandboxWebhook

    client.post(_url("card", checkout), {"number": "4000 0000 0000 3220", "expiry": "12/30", "cvc": "987"})
    client.post(_url("otp", checkout), {"otp": "112233"})
    dump = serializers.serialize("json", [*SandboxPayment.objects.all(), *AuditEntry.objects.all(),
                                          *SandboxWebhook.objects.all()])
    assert "4000000000003220" not in dump and "4000 0000 0000 3220" not in dump  # nor the CVC: no field holds it
    assert '"card_last4": "3220"' in dump
