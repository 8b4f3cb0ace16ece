"""Staff screens: list with filters, timeline, refund form, settings with test connection, reports + CSV."""

from __future__ import annotations

import re

import pytest

from jasa.accounts.models import Membership
from jasa.core.money import Money
from jasa.payments.gateways.base import Method, Status
from jasa.payments.models import GatewayAccount, Refund, TaxSettings
from jasa.payments.services import payment_start, payment_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(ws, client):
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    return client


@pytest.fixture
def paid(ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws, 1_000_000)
    payment = payment_start(invoice=invoice, idempotency_key="staff", method="card")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    return payment_sync(payment.pk)


def url(ws, path=""):
    return f"/dashboard/{ws.slug}/payments/{path}"


def test_list_filters(owner_client, ws, paid, invoice_factory):
    pending = payment_start(invoice=invoice_factory(ws), idempotency_key="other", method="va_bca")
    page = owner_client.get(url(ws)).content.decode()
    assert str(paid.pk) in page and str(pending.pk) in page
    page = owner_client.get(url(ws) + "?status=succeeded").content.decode()
    assert str(paid.pk) in page and str(pending.pk) not in page
    page = owner_client.get(url(ws) + "?method=va_bca").content.decode()
    assert str(pending.pk) in page and str(paid.pk) not in page
    assert owner_client.get(url(ws) + "?since=2000-01-01&until=2000-01-02").content.decode().count("/payments/") \
        < page.count("/payments/") + 5


def test_detail_shows_timeline_and_refund_works(owner_client, ws, paid):
    page = owner_client.get(url(ws, f"{paid.pk}/")).content.decode()
    assert 'data-type="ledger"' in page and 'data-type="audit"' in page and "refund-form" in page
    r = owner_client.post(url(ws, f"{paid.pk}/refund/"), {"amount": "250000", "reason": "late start"})
    assert r.status_code == 302
    refund = Refund.objects.get()
    assert refund.amount == Money(250_000) and refund.reason == "late start"
    paid.refresh_from_db()
    assert paid.status == Status.PARTIALLY_REFUNDED
    # too much: an error message, no second refund
    owner_client.post(url(ws, f"{paid.pk}/refund/"), {"amount": "9000000", "reason": "x"}, follow=True)
    assert Refund.objects.count() == 1


def test_staff_role_cannot_see_payments(ws, client, member_factory, paid):
    staff = member_factory(ws, role="staff")
    client.force_login(staff.user)
    assert client.get(url(ws)).status_code == 403
    assert client.post(url(ws, f"{paid.pk}/refund/"), {"amount": "1", "reason": "x"}).status_code == 403


def test_other_workspace_payment_is_404(owner_client, ws, workspace_factory, invoice_factory, fakegw):
    from jasa.payments.services_config import gateway_account_save

    other = workspace_factory()
    gateway_account_save(workspace=other, gateway="testpay", is_default=True)
    foreign = payment_start(invoice=invoice_factory(other), idempotency_key="f")
    assert owner_client.get(url(ws, f"{foreign.pk}/")).status_code == 404


def test_settings_save_gateway_fee_tax_and_test_connection(owner_client, ws):
    r = owner_client.post(url(ws, "settings/"), {
        "form": "gateway", "gw-gateway": "testpay", "gw-enabled": "on", "gw-is_default": "on",
        "gw-fee_bearer": "pass_on", "gw-enabled_methods": ["card", "qris"], "gw-credential_1": "new-secret",
    })
    assert r.status_code == 302
    account = GatewayAccount.objects.get(workspace=ws, gateway="testpay")
    assert account.fee_bearer == "pass_on" and account.enabled_methods == ["card", "qris"]
    assert "new-secret" not in account.credentials_encrypted
    assert owner_client.post(url(ws, "settings/"), {"form": "fee", "fee-gateway": "testpay", "fee-method": "card",
                                                     "fee-percent": "2.5", "fee-fixed": "1500"}).status_code == 302
    assert owner_client.post(url(ws, "settings/"), {"form": "tax", "tax-enabled": "on", "tax-rate_percent": "12",
                                                     "tax-base_numerator": "11",
                                                     "tax-base_denominator": "12"}).status_code == 302
    assert TaxSettings.objects.get(workspace=ws).enabled
    page = owner_client.post(url(ws, f"settings/{account.pk}/test/"), follow=True).content.decode()
    assert "testpay reachable" in page
    page = owner_client.get(url(ws, "settings/")).content.decode()
    assert "new-secret" not in page
    assert re.search(r"<td>testpay</td><td>card</td><td>2[.,]5</td><td>1[.,]?500</td>", page)


def test_reports_and_csv(owner_client, ws, paid):
    page = owner_client.get(f"/dashboard/{ws.slug}/reports/").content.decode()
    assert "card" in page
    r = owner_client.get(f"/dashboard/{ws.slug}/reports/?format=csv")
    assert r["Content-Type"].startswith("text/csv")
    lines = r.content.decode().strip().splitlines()
    assert lines[0] == "day,method,currency,gross,fee,refunded,net"
    day, method, currency, gross, fee, refunded, net = lines[1].split(",")
    assert (method, currency, gross, refunded) == (Method.CARD.value, "IDR", "1000000", "0")
    assert int(net) == 1_000_000 - int(fee) and int(fee) == 31_000  # 2.9 % + Rp 2.000


def test_nav_links_payments_and_reports(owner_client, ws):
    page = owner_client.get(f"/dashboard/{ws.slug}/").content.decode()
    assert url(ws) in page and f"/dashboard/{ws.slug}/reports/" in page
