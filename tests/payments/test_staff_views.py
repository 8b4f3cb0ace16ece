"""Staff screens: list with filters, timeline, refund form, settings with test connection, reports + CSV."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from jasa.accounts.models import Membership
from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import Method, Status
from jasa.payments.models import GatewayAccount, Refund, TaxSettings
from jasa.payments.services import payment_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(ws, client):
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    return client


@pytest.fixture
def paid(ws, invoice_factory, pay_invoice):
    invoice = invoice_factory(ws, 1_000_000)
    return pay_invoice(invoice, "staff", method="card")


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


@pytest.mark.parametrize("lang,paid_word,pending_word", [("id", "berhasil", "sedang diproses"),
                                                          ("en", "succeeded", "processing")])
def test_list_names_statuses_in_the_viewers_language(owner_client, ws, paid, invoice_factory, lang, paid_word,
                                                    pending_word):
    pending = payment_start(invoice=invoice_factory(ws), idempotency_key="other", method="va_bca")
    page = owner_client.get(url(ws), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert f'data-status="succeeded">{paid_word}</span>' in page
    assert pending.status == "processing" and f'data-status="processing">{pending_word}</span>' in page


def at_wib(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of December 2026 in Jakarta (WIB, UTC+7), the workspace's zone."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_list_date_filter_takes_whole_days_in_the_workspace_zone(owner_client, ws, invoice_factory, fakegw):
    made = {}
    for name, moment in [("nov30", at_wib(1, 6) - dt.timedelta(days=1)), ("dec1_late", at_wib(1, 23, 30)),
                         ("dec2_early", at_wib(2, 0, 30)), ("dec3", at_wib(3, 9))]:
        clock.freeze(moment)
        made[name] = payment_start(invoice=invoice_factory(ws), idempotency_key=name, method="card")
    # 00:30 WIB on 2 Dec is still 1 Dec in UTC: the filter must go by the workspace's day, not UTC's
    assert made["dec2_early"].created_at.astimezone(dt.UTC).day == 1

    def listed(query: str) -> set[str]:
        page = owner_client.get(url(ws) + query).content.decode()
        return {name for name, p in made.items() if str(p.pk) in page}

    assert listed("") == set(made)
    assert listed("?since=2026-12-01&until=2026-12-01") == {"dec1_late"}
    assert listed("?since=2026-12-02&until=2026-12-02") == {"dec2_early"}
    assert listed("?since=2026-12-01&until=2026-12-02") == {"dec1_late", "dec2_early"}
    assert listed("?since=2026-12-02") == {"dec2_early", "dec3"}  # until: today (3 Dec)
    assert listed("?until=2026-11-30") == {"nov30"}  # since: 30 days before
    assert listed("?since=2000-01-01&until=2000-01-02") == set()
    assert listed("?since=2026-12-01&status=succeeded") == set()  # filters combine


def test_timeline_shows_the_payments_webhooks(owner_client, ws, paid, invoice_factory, fakegw, client,
                                              django_capture_on_commit_callbacks):
    from jasa.payments.models import WebhookEvent
    from jasa.payments.selectors import payment_timeline

    other = payment_start(invoice=invoice_factory(ws), idempotency_key="other-wh", method="card")
    for event_id, payment in [("evt-staff-1", paid), ("evt-other-1", other)]:
        headers, body = fakegw.webhook(event_id, payment.reference, status="paid")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/webhooks/testpay", data=body, content_type="application/json",
                                   headers={"X-Testpay-Signature": headers["X-Testpay-Signature"]})
        assert response.status_code == 200
    event = WebhookEvent.objects.get(event_id="evt-staff-1")
    assert event.payment_id == paid.pk and event.state == WebhookEvent.PROCESSED

    items = [item for item in payment_timeline(paid) if item["type"] == "webhook"]
    assert [(i["label"], i["detail"]) for i in items] == [("testpay: payment", "evt-staff-1 · paid · processed")]
    page = owner_client.get(url(ws, f"{paid.pk}/")).content.decode()
    rows = re.findall(r'<tr data-type="webhook">(.*?)</tr>', page, re.S)
    assert len(rows) == 1
    assert "testpay: payment" in rows[0] and "evt-staff-1 · paid · processed" in rows[0]
    assert "evt-other-1" not in page  # another payment's webhook is not in this timeline


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
    assert "<td>Kartu kredit atau debit</td>" in page  # the method's name, not its code (the CSV keeps codes)
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


def test_reports_group_by_day_in_the_workspace_zone_and_by_method(owner_client, ws, invoice_factory, pay_invoice):
    from jasa.payments.services import payment_refund

    def paid_at(moment: dt.datetime, amount: int, method: str):
        clock.freeze(moment)
        return pay_invoice(invoice_factory(ws, amount), f"r-{moment}", method=method)

    paid_at(at_wib(1, 10), 1_000_000, "card")      # fee 2.9 % + Rp 2.000 = 31.000
    paid_at(at_wib(1, 23, 30), 200_000, "qris")    # 23:30 WIB: still 1 Dec; fee 0.7 % = 1.400
    paid_at(at_wib(2, 0, 30), 500_000, "va_bca")   # 00:30 WIB on 2 Dec (17:30 UTC on 1 Dec); fee Rp 4.000
    card = paid_at(at_wib(2, 9), 300_000, "card")  # fee 8.700 + 2.000 = 10.700
    clock.freeze(at_wib(2, 15))
    payment_refund(payment=card, amount=Money(100_000), reason="one session less")
    paid_at(at_wib(3, 8), 50_000, "card")          # outside the period asked for

    query = "?since=2026-12-01&until=2026-12-02"
    expected = [
        ("2026-12-01", "card", 1_000_000, 31_000, 0, 969_000),
        ("2026-12-01", "qris", 200_000, 1_400, 0, 198_600),
        ("2026-12-02", "card", 300_000, 10_700, 100_000, 189_300),
        ("2026-12-02", "va_bca", 500_000, 4_000, 0, 496_000),
    ]
    response = owner_client.get(f"/dashboard/{ws.slug}/reports/{query}&format=csv")
    lines = response.content.decode().strip().splitlines()
    assert lines == ["day,method,currency,gross,fee,refunded,net",
                     *(f"{d},{m},IDR,{g},{f},{r},{n}" for d, m, g, f, r, n in expected)]

    response = owner_client.get(f"/dashboard/{ws.slug}/reports/{query}")
    rows = [(r["day"], r["method"], r["gross"].amount, r["fee"].amount, r["refunded"].amount, r["net"].amount)
            for r in response.context["rows"]]
    assert rows == expected
    [total] = response.context["totals"]
    assert (total["currency"], total["gross"], total["fee"], total["refunded"], total["net"]) == (
        "IDR", Money(2_000_000), Money(47_100), Money(100_000), Money(1_852_900))
    page = response.content.decode()
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    assert body.count("<tr>") == 4
    assert "<td>2026-12-02</td><td>Virtual account BCA</td>" in body
    foot = page[page.index("<tfoot>"):page.index("</tfoot>")]
    for amount in (Money(2_000_000), Money(47_100), Money(100_000), Money(1_852_900)):
        assert amount.format("id") in foot

    day_one = owner_client.get(f"/dashboard/{ws.slug}/reports/?since=2026-12-01&until=2026-12-01&format=csv")
    assert [line.split(",")[:2] for line in day_one.content.decode().strip().splitlines()[1:]] == [
        ["2026-12-01", "card"], ["2026-12-01", "qris"]]
