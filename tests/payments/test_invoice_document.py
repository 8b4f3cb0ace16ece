"""The invoice as a document: HTML page and PDF of an issued invoice, in id/en, with the business's legal
details, PPN as its own row, paid / balance, "LUNAS" / "PAID" once paid; reached only by its signed link (or
by the client and the business's staff signed in), and linked from the pay page, portal, receipt and staff page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from jasa.accounts.models import Membership
from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import Status
from jasa.payments.invoice_document import invoice_document_urls, invoice_pdf
from jasa.payments.models import Receipt
from jasa.payments.receipts import receipt_token, receipt_urls
from jasa.payments.services import invoice_create, invoice_issue, payment_start, payment_sync
from jasa.payments.services_config import gateway_account_save, tax_settings_save
from jasa.payments.tax_terms import TaxTerms
from jasa.payments.views_client import pay_token, pay_url
from tests.payments.doc_helpers import ADDRESS, LEGAL_NAME, NPWP, pdf_text, with_legal_details

pytestmark = pytest.mark.django_db

CLIENT_NAME = "Budi & Sari <Studio>"  # markup in a name must come out as written, in HTML and in the PDF


@pytest.fixture
def invoice(ws, invoice_factory, client_factory, frozen_clock):
    with_legal_details(ws)
    customer = client_factory(ws, name=CLIENT_NAME, company="CV Maju Jaya", phone="+6281234567890")
    return invoice_factory(ws, 1_500_000, client=customer, due_at=clock.now() + dt.timedelta(days=14))


def _pay(invoice, fakegw, key: str, **kwargs):
    payment = payment_start(invoice=invoice, idempotency_key=key, method="va_bca", **kwargs)
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    payment_sync(payment.pk)
    invoice.refresh_from_db()
    return payment


def _page(http, invoice, lang: str) -> str:
    response = http.get(invoice_document_urls(invoice)["html_path"] + f"&lang={lang}")
    assert response.status_code == 200
    return response.content.decode()


def _section(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


OPEN_WORDS = {
    "id": ["Tagihan INV/2026/000001", "BELUM DIBAYAR", "Ditagihkan kepada", "Tanggal tagihan", "02-12-2026",
           "Tanggal jatuh tempo", "16-12-2026", "Rp 1.500.000", "PPN 12% (DPP 11/12 = Rp 1.375.000)", "Rp 165.000",
           "Rp 1.665.000", "Sisa tagihan", "Bayar Rp 1.665.000 secara online"],
    "en": ["Invoice INV/2026/000001", "UNPAID", "Bill to", "Invoice date", "02-12-2026", "Due date", "16-12-2026",
           "IDR 1,500,000", "PPN 12% (tax base 11/12 = IDR 1,375,000)", "IDR 165,000", "IDR 1,665,000",
           "Balance due", "Pay IDR 1,665,000 online"],
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_open_invoice_page(client, invoice, lang):
    page = _page(client, invoice, lang)
    for word in [*OPEN_WORDS[lang], LEGAL_NAME, f"NPWP {NPWP}", ADDRESS, "halo@acme.test", "CV Maju Jaya",
                 "+6281234567890", "Budi &amp; Sari &lt;Studio&gt;", "Konsultasi 60 menit"]:
        assert word in page, word
    # PPN is its own row under the subtotal, not one of the lines
    assert "PPN" not in _section(page, "<tbody>", "</tbody>")
    tfoot = _section(page, "<tfoot>", "</tfoot>")
    assert tfoot.index("Subtotal") < tfoot.index("PPN 12%") < tfoot.index("Total")
    assert pay_url(invoice).removeprefix(settings.SITE_URL) in page


def test_partly_paid_then_paid_in_full(client, invoice, fakegw):
    _pay(invoice, fakegw, "first", amount=Money(500_000))
    page = _page(client, invoice, "id")
    assert "DIBAYAR SEBAGIAN" in page and "KWT/2026/000001" in page
    assert 'id="doc-paid">Rp 500.000<' in page and "Rp 1.165.000" in page and 'id="invoice-pay"' in page

    _pay(invoice, fakegw, "rest")
    assert invoice.status == "paid"
    page = _page(client, invoice, "id")
    assert "LUNAS" in page and "Dibayar pada 02-12-2026" in page
    payments = _section(page, 'id="invoice-document-payments"', "</table>")
    assert "KWT/2026/000001" in payments and "KWT/2026/000002" in payments and "Virtual account BCA" in payments
    assert "Rp 1.165.000" in payments
    assert 'id="doc-balance"><strong>Rp 0<' in page and 'id="invoice-pay"' not in page
    assert "Tagihan ini sudah lunas" in page
    assert "PAID" in _page(client, invoice, "en")


PDF_WORDS = {
    "id": ["Tagihan INV/2026/000001", "LUNAS", "Ditagihkan kepada: Budi & Sari <Studio> · CV Maju Jaya",
           "Tanggal tagihan: 02-12-2026", "Tanggal jatuh tempo: 16-12-2026", "Dibayar pada: 02-12-2026",
           "Konsultasi 60 menit", "Subtotal\nRp 1.500.000", "PPN 12% (DPP 11/12 = Rp 1.375.000)\nRp 165.000",
           "Total\nRp 1.665.000", "Dibayar\nRp 1.665.000", "Sisa tagihan\nRp 0", "Pembayaran yang diterima",
           "KWT/2026/000001", "Virtual account BCA"],
    "en": ["Invoice INV/2026/000001", "PAID", "Bill to: Budi & Sari <Studio> · CV Maju Jaya",
           "Invoice date: 02-12-2026", "Due date: 16-12-2026", "Paid on: 02-12-2026", "Konsultasi 60 menit",
           "Subtotal\nIDR 1,500,000", "PPN 12% (tax base 11/12 = IDR 1,375,000)\nIDR 165,000",
           "Total\nIDR 1,665,000", "Amount paid\nIDR 1,665,000", "Balance due\nIDR 0", "Payments received",
           "KWT/2026/000001", "BCA virtual account"],
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_pdf_of_the_paid_invoice(client, invoice, fakegw, lang):
    _pay(invoice, fakegw, "pdf")
    response = client.get(invoice_document_urls(invoice)["pdf_path"] + f"&lang={lang}")
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="INV-2026-000001.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    for word in [*PDF_WORDS[lang], LEGAL_NAME, f"NPWP {NPWP}", ADDRESS]:
        assert word in text, word
    assert text.index("Subtotal") < text.index("PPN 12%") < text.index("Total")


def test_pdf_of_an_open_invoice_says_where_to_pay(invoice):
    text = pdf_text(invoice_pdf(invoice, "id"))
    assert "BELUM DIBAYAR" in text and "Sisa tagihan\nRp 1.665.000" in text
    assert f"Bayar online: {pay_url(invoice)}" in text.replace("\n", "")
    assert "Pembayaran yang diterima" not in text  # nothing received yet


def test_only_the_signed_link_opens_it(client, ws, invoice, invoice_factory, fakegw):
    html = reverse("payments:invoice_document", args=[invoice.pk])
    pdf = reverse("payments:invoice_pdf", args=[invoice.pk])
    payment = _pay(invoice, fakegw, "tok")
    other = invoice_factory(ws, 10_000)
    for path in (html, pdf):
        assert client.get(path).status_code == 404
        assert client.get(path + "?t=forged").status_code == 404
        assert client.get(path + f"?t={pay_token(invoice)}").status_code == 404  # the pay link's token is not it
        assert client.get(path + f"?t={receipt_token(Receipt.objects.get(payment=payment))}").status_code == 404
        assert client.get(path + "?t=" + invoice_document_urls(other)["html_path"].split("t=")[1]).status_code == 404
    draft = invoice_factory(ws, 10_000, issue=False)
    assert client.get(invoice_document_urls(draft)["html_path"]).status_code == 404  # no number, no document


def test_the_client_and_the_staff_open_it_signed_in(client, ws, invoice, user_factory, workspace_factory):
    html = reverse("payments:invoice_document", args=[invoice.pk])
    customer = user_factory()
    invoice.client.user = customer
    invoice.client.save()
    client.force_login(customer)
    assert client.get(html).status_code == 200
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    assert client.get(html).status_code == 200
    client.force_login(Membership.objects.get(workspace=workspace_factory(), role="owner").user)
    assert client.get(html).status_code == 404  # another business's owner


def test_linked_from_pay_page_portal_receipt_and_staff_page(client, ws, invoice, fakegw, user_factory):
    links = invoice_document_urls(invoice)
    pay_page = client.get(pay_url(invoice).removeprefix(settings.SITE_URL)).content.decode()
    assert links["html_path"] in pay_page and links["pdf_path"] in pay_page

    payment = _pay(invoice, fakegw, "links", amount=Money(100_000))
    receipt_page = client.get(receipt_urls(Receipt.objects.get(payment=payment))["html_path"]).content.decode()
    assert links["html_path"] in receipt_page and links["pdf_path"] in receipt_page
    status = reverse("payments:pay_status", args=[invoice.pk, payment.pk]) + f"?t={pay_token(invoice)}"
    status_page = client.get(status).content.decode()  # where the gateway sends the client back
    assert links["html_path"] in status_page and links["pdf_path"] in status_page

    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    staff_page = client.get(f"/dashboard/{ws.slug}/invoices/{invoice.pk}/").content.decode()
    assert links["html_path"] in staff_page and links["pdf_path"] in staff_page

    customer = user_factory()
    invoice.client.user = customer
    invoice.client.save()
    client.force_login(customer)
    portal = client.get(reverse("web:portal")).content.decode()
    assert reverse("payments:invoice_document", args=[invoice.pk]) in portal
    assert reverse("payments:invoice_pdf", args=[invoice.pk]) in portal


def test_staff_invoice_page_shows_ppn_as_its_own_row(client, ws, invoice):
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    page = client.get(f"/dashboard/{ws.slug}/invoices/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    lines = _section(page, 'id="invoice-lines"', "</table>")
    assert "PPN" not in _section(lines, "<tbody>", "</tbody>")
    assert 'data-kind="tax"><th colspan="4" scope="row">PPN 12% (tax base 11/12 = IDR 1,375,000)</th>' in lines
    assert 'id="invoice-total"><strong>IDR 1,665,000<' in lines


def test_a_document_keeps_the_terms_it_was_issued_on(client, ws, invoice, invoice_factory):
    """Moving from 12 % × 11/12 to 11 % on the full price charges the same; old invoices still say 12 %."""
    tax_settings_save(workspace=ws, enabled=True, rate_percent="11", base_numerator=1, base_denominator=1)
    assert "PPN 12% (DPP 11/12 = Rp 1.375.000)" in _page(client, invoice, "id")
    later = invoice_factory(ws, 1_500_000)
    page = _page(client, later, "id")
    assert "PPN 11%</th>" in page and "DPP" not in page and "Rp 165.000" in page


def test_a_tax_line_typed_in_by_hand_is_shown_as_written(client, ws, client_factory):
    with_legal_details(ws, ppn=False)
    invoice = invoice_issue(invoice_create(workspace=ws, client=client_factory(ws), lines=[
        {"kind": "service", "description": "Desain logo", "amount": Money(2_000_000)},
        {"kind": "tax", "description": "PPN dipungut sendiri", "amount": Money(220_000)},
    ]))
    page = _page(client, invoice, "en")
    assert "PPN" not in _section(page, "<tbody>", "</tbody>")
    assert '<th colspan="3" scope="row">PPN dipungut sendiri</th><td class="num money">IDR 220,000</td>' in page
    assert "IDR 2,220,000" in page


@pytest.mark.parametrize(("lang", "rows"), [
    ("id", ["Subtotal", "Rp 1.500.000", "PPN 12%", "Biaya layanan (Virtual account BCA)", "Rp 4.000", "Total",
            "Rp 1.669.000"]),
    ("en", ["Subtotal", "IDR 1,500,000", "PPN 12%", "Service fee (BCA virtual account)", "IDR 4,000", "Total",
            "IDR 1,669,000"]),
])
def test_a_fee_passed_on_is_its_own_row_after_ppn(client, ws, invoice, fakegw, lang, rows):
    gateway_account_save(workspace=ws, gateway="testpay", credentials={"key": "k"}, is_default=True,
                         fee_bearer="pass_on")
    _pay(invoice, fakegw, "fee")  # VA: Rp 4.000, on top of what the invoice asked
    tfoot = _section(_page(client, invoice, lang), "<tfoot>", "</tfoot>")
    text = pdf_text(invoice_pdf(invoice, lang))
    for where in (tfoot, text):
        at = 0
        for row in rows:  # each row after the one before it
            at = where.index(row, at)


@pytest.mark.parametrize(("rate", "num", "den", "stored", "id_label", "en_label"), [
    ("12", 11, 12, "PPN 12% × 11/12", "PPN 12% (DPP 11/12 = Rp 1.375.000)", "PPN 12% (tax base 11/12 = IDR 1,375,000)"),
    ("11", 1, 1, "PPN 11%", "PPN 11%", "PPN 11%"),
    ("11.50", 1, 1, "PPN 11.5%", "PPN 11,5%", "PPN 11.5%"),
])
def test_tax_terms_are_read_back_from_the_line(rate, num, den, stored, id_label, en_label):
    from django.utils import translation

    terms = TaxTerms(label="PPN", rate=Decimal(rate), numerator=num, denominator=den)
    assert terms.describe() == stored
    assert TaxTerms.parse(stored) == terms
    for lang, label in (("id", id_label), ("en", en_label)):
        with translation.override(lang):
            assert terms.row_label(Money(1_500_000), lang) == label
    assert TaxTerms.parse("PPN dipungut sendiri") is None
    assert TaxTerms.parse("PPN 12% × 13/12") is None  # a base above the price is nobody's PPN


def test_a_refund_shows_what_came_in_and_what_went_back(client, invoice, fakegw):
    # Dibayar is what the client paid in; the refund is its own row; total − paid is the balance
    from jasa.payments.services import payment_refund

    payment = payment_start(invoice=invoice, idempotency_key="card", method="card")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    payment_sync(payment.pk)
    payment_refund(payment=payment, amount=Money(200_000), reason="one session less")
    page = _page(client, invoice, "id")
    tfoot = _section(page, "<tfoot>", "</tfoot>")
    assert 'id="doc-paid">Rp 1.665.000<' in tfoot and "Rp 200.000" in tfoot
    assert 'id="doc-balance"><strong>Rp 0<' in page
    text = pdf_text(invoice_pdf(invoice, "id"))
    assert "Dibayar\nRp 1.665.000" in text and "Dikembalikan\nRp 200.000" in text and "Sisa tagihan\nRp 0" in text
