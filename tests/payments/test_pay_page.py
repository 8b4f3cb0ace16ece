"""jasa's own pay page: PPN as its own row, the service fee each method adds when the business passes fees on
(what payment_start then charges), the refund policy and the security signals, in id and en."""

from __future__ import annotations

import html

import pytest
from django.conf import settings

from jasa.core.money import Money
from jasa.payments import fees
from jasa.payments.connect import account_for
from jasa.payments.models import PaymentIntent
from jasa.payments.services_config import gateway_account_save
from jasa.payments.views_client import pay_url
from tests.payments.doc_helpers import LEGAL_NAME, NPWP, with_legal_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(ws, invoice_factory):
    return invoice_factory(ws, 1_500_000)


def _path(invoice) -> str:
    return pay_url(invoice).removeprefix(settings.SITE_URL)


def _page(http, invoice, lang: str) -> str:
    response = http.get(_path(invoice), HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _pass_fees_on(ws):
    gateway_account_save(workspace=ws, gateway="testpay", credentials={"key": "k"}, is_default=True,
                         fee_bearer="pass_on")


FEE_WORDS = {
    "id": {"fee": "+ biaya layanan {fee}", "hosted": "tanpa biaya layanan",
           "note": "meneruskan biaya payment gateway kepada Anda", "va": "Rp 4.000"},
    "en": {"fee": "+ {fee} service fee", "hosted": "no service fee",
           "note": "passes the payment gateway's fee on", "va": "IDR 4,000"},
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_each_method_says_the_fee_it_adds_when_fees_are_passed_on(client, ws, invoice, lang):
    _pass_fees_on(ws)
    page = _page(client, invoice, lang)
    words = FEE_WORDS[lang]
    assert words["note"] in page
    account = account_for(ws, "testpay")
    for method in ("card", "va_bca", "qris", "gopay"):
        fee = fees.surcharge(ws, account, method, Money(1_500_000))
        assert fee.amount > 0
        shown = page.split(f'data-method="{method}">', 1)[1].split("<", 1)[0]
        assert shown == words["fee"].format(fee=fee.format(lang)), (method, shown)
    assert words["fee"].format(fee=words["va"]) in page  # VA: the flat Rp 4.000
    assert page.split('data-method="">', 1)[1].split("<", 1)[0] == words["hosted"]  # chosen there: nothing added


def test_the_fee_shown_is_the_fee_charged(client, ws, invoice):
    _pass_fees_on(ws)
    page = _page(client, invoice, "en")
    shown = page.split('data-method="va_bca">', 1)[1].split("<", 1)[0]
    client.post(_path(invoice), {"method": "va_bca", "attempt": "a1"})
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert shown == f"+ {payment.surcharge.format('en')} service fee"
    assert payment.gross_amount == 1_500_000 + payment.surcharge_amount


@pytest.mark.parametrize("lang", ["id", "en"])
def test_no_fee_words_when_the_business_absorbs_fees(client, invoice, lang):
    page = _page(client, invoice, lang)
    assert 'class="method-fee"' not in page and 'id="fee-note"' not in page


SIGNALS = {
    "id": ["Pembayaran aman", "Anda membayar di halaman aman payment gateway", "Pembayaran diproses oleh Test gateway.",
           "Mode uji: tidak ada uang sungguhan yang berpindah.", "Anda menerima kuitansi bernomor lewat email",
           f"Ditagih oleh {LEGAL_NAME}, NPWP {NPWP}."],
    "en": ["Safe payment", "You pay on the payment gateway's secure page. The business never sees or stores your "
           "card number.", "Payments are processed by Test gateway.", "Test mode: no real money moves.",
           "you get a numbered receipt (kuitansi) by email", f"Billed by {LEGAL_NAME}, NPWP {NPWP}."],
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_security_signals(client, ws, invoice, lang):
    with_legal_details(ws, ppn=False)
    trust = _page(client, invoice, lang).split('id="trust"', 1)[1].split("</section>", 1)[0]
    for word in SIGNALS[lang]:
        assert word in trust, word


def test_a_live_gateway_is_not_called_test_mode(client, ws, invoice):
    gateway_account_save(workspace=ws, gateway="testpay", credentials={"key": "k"}, is_default=True, sandbox=False)
    trust = _page(client, invoice, "en").split('id="trust"', 1)[1]
    assert "Payments are processed by Test gateway." in trust and "Test mode" not in trust


@pytest.mark.parametrize(("lang", "policy"), [("id", "Dana kembali penuh sampai 24 jam sebelum sesi."),
                                              ("en", "Full refund up to 24 hours before the session.")])
def test_the_refund_policy_in_the_clients_language(client, ws, invoice, lang, policy):
    ws.refund_policy_id = "Dana kembali penuh sampai 24 jam sebelum sesi."
    ws.refund_policy_en = "Full refund up to 24 hours before the session."
    ws.save()
    page = _page(client, invoice, lang)
    assert f'<p id="refund-policy">{policy}</p>' in page
    assert page.index('id="refund-policy"') < page.index("</section>")  # beside the payment, before the receipts


@pytest.mark.parametrize(("lang", "words"), [
    ("id", "belum menerbitkan kebijakan pengembalian dana. Jika Anda memerlukannya, tanyakan sebelum membayar."),
    ("en", "has not published a refund policy. If you need one, ask before you pay."),
])
def test_without_a_refund_policy_the_page_says_to_ask(client, ws, invoice, lang, words):
    with_legal_details(ws, ppn=False)
    policy = _page(client, invoice, lang).split('id="refund-policy"', 1)[1].split("</p>", 1)[0]
    assert words in policy and "mailto:halo@acme.test" in policy


@pytest.mark.parametrize(("lang", "row"), [("id", "PPN 12% (DPP 11/12 = Rp 1.375.000)"),
                                           ("en", "PPN 12% (tax base 11/12 = IDR 1,375,000)")])
def test_ppn_is_its_own_row(client, ws, invoice_factory, lang, row):
    with_legal_details(ws)
    page = _page(client, invoice_factory(ws, 1_500_000), lang)
    assert "PPN" not in page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    tfoot = page.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    assert row in tfoot and tfoot.index("Subtotal") < tfoot.index(row) < tfoot.index("Total")


@pytest.mark.parametrize("lang,name,amount", [("id", "Virtual account BCA", "Rp 1.500.000"),
                                              ("en", "BCA virtual account", "IDR 1,500,000")])
def test_a_payment_under_way_is_named_by_its_method(client, ws, invoice, lang, name, amount):
    from jasa.payments.services import payment_start

    payment_start(invoice=invoice, idempotency_key="under-way", method="va_bca")
    page = _page(client, invoice, lang)
    under_way = page.split('id="open-payments"', 1)[1].split("</aside>", 1)[0]
    assert f"{amount} · {name}" in under_way and "va_bca" not in under_way
