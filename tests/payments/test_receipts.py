"""Receipts: numbered KWT/<year>/<n>, HTML and PDF in id/en with legal details and PPN as its own row, emailed
through the outbox with the PDF (and the paid invoice's PDF) as soon as a payment succeeds, once."""

from __future__ import annotations

import pytest

from jasa.accounts.models import Membership
from jasa.core.money import Money
from jasa.notifications.models import OutboxMessage
from jasa.payments.gateways.base import Status
from jasa.payments.models import Receipt
from jasa.payments.receipts import receipt_pdf, receipt_urls
from jasa.payments.services import (
    payment_start,
    payment_sync,
    payments_reconcile,
    webhook_process,
    webhook_receive,
)
from tests.payments.doc_helpers import ADDRESS, LEGAL_NAME, NPWP, pdf_text, with_legal_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(ws, invoice_factory, pay_invoice, frozen_clock):
    with_legal_details(ws)
    invoice = invoice_factory(ws, 1_500_000)
    payment = pay_invoice(invoice, "rc", method="card")
    return Receipt.objects.get(payment=payment)


def test_numbering(receipt, ws, invoice_factory, fakegw):
    assert receipt.number == "KWT/2026/000001"
    invoice = invoice_factory(ws, 10_000)
    p = payment_start(invoice=invoice, idempotency_key="rc2")
    fakegw.set_status(p.reference, Status.SUCCEEDED)
    payment_sync(p.pk)
    assert Receipt.objects.get(payment=p).number == "KWT/2026/000002"


@pytest.mark.parametrize(("lang", "words"), [
    ("id", ["Kuitansi", "Rp 1.500.000", "PPN 12% (DPP 11/12 = Rp 1.375.000)", "Rp 165.000", "Rp 1.665.000",
            "Kartu kredit atau debit"]),
    ("en", ["Receipt", "IDR 1,500,000", "PPN 12% (tax base 11/12 = IDR 1,375,000)", "IDR 165,000", "IDR 1,665,000",
            "Credit or debit card"]),
])
def test_html_via_signed_link(client, receipt, lang, words):
    page = client.get(receipt_urls(receipt)["html_path"] + f"&lang={lang}").content.decode()
    for word in [*words, LEGAL_NAME, f"NPWP {NPWP}", ADDRESS, receipt.number]:
        assert word in page, word
    lines = page.split('id="receipt-lines"', 1)[1]
    assert "PPN" not in lines.split("<tbody>", 1)[1].split("</tbody>", 1)[0]  # a row under the subtotal, not a line
    assert 'data-kind="tax"' in lines.split("<tfoot>", 1)[1]


def test_no_token_no_receipt(client, receipt):
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 404
    assert client.get(f"/receipts/{receipt.pk}/?t=forged").status_code == 404


def test_staff_member_may_open_without_token(client, ws, receipt):
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    assert client.get(f"/receipts/{receipt.pk}/pdf/").status_code == 200


RECEIPT_PDF = {
    "id": ["Kuitansi KWT/2026/000001", "Diterima dari: Client 1 (client1@example.test)", "Tagihan: INV/2026/000001",
           "Dibayar pada: 02-12-2026 10:00 · Metode pembayaran: Kartu kredit atau debit", "Konsultasi 60 menit",
           "Subtotal\nRp 1.500.000", "PPN 12% (DPP 11/12 = Rp 1.375.000)\nRp 165.000", "Total\nRp 1.665.000",
           "Dibayar dengan kuitansi ini\nRp 1.665.000", "Kuitansi ini sah tanpa tanda tangan."],
    "en": ["Receipt KWT/2026/000001", "Received from: Client 1 (client1@example.test)", "Invoice: INV/2026/000001",
           "Paid on: 02-12-2026 10:00 · Method: Credit or debit card", "Konsultasi 60 menit",
           "Subtotal\nIDR 1,500,000", "PPN 12% (tax base 11/12 = IDR 1,375,000)\nIDR 165,000",
           "Total\nIDR 1,665,000", "Paid with this receipt\nIDR 1,665,000", "This receipt is valid without a signature."],
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_pdf_contents(client, receipt, lang):
    r = client.get(receipt_urls(receipt)["pdf_path"] + f"&lang={lang}")
    assert r["Content-Type"] == "application/pdf"
    text = pdf_text(r.content)
    for word in [*RECEIPT_PDF[lang], LEGAL_NAME, f"NPWP {NPWP}", ADDRESS, "halo@acme.test"]:
        assert word in text, word
    assert text.index("Subtotal") < text.index("PPN 12%") < text.index("Total")
    assert text == pdf_text(receipt_pdf(receipt, lang))


def test_emailed_with_pdf_once(smtp_server, receipt, django_capture_on_commit_callbacks):
    from jasa.payments.receipts import receipt_send

    client = receipt.invoice.client
    with django_capture_on_commit_callbacks(execute=True):
        receipt_send(str(receipt.pk))
        receipt_send(str(receipt.pk))  # deduplicated by the outbox
    [mail] = smtp_server.wait_for(client.email)
    assert receipt.number in mail["Subject"]
    receipt.refresh_from_db()
    assert receipt.emailed_at is not None


# --- through the payment core: a successful payment emails its receipt by itself -----------------------------


def _attachments(mail) -> dict[str, str]:
    return {part.get_filename(): pdf_text(part.get_content()) for part in mail.iter_attachments()}


def test_a_successful_payment_emails_the_receipt_and_the_paid_invoice_once(
        smtp_server, ws, invoice_factory, client_factory, fakegw, frozen_clock, django_capture_on_commit_callbacks):
    with_legal_details(ws)
    customer = client_factory(ws, name="Sari Wulandari", email="sari@example.test", language="en")
    invoice = invoice_factory(ws, 1_500_000, client=customer)
    payment = payment_start(invoice=invoice, idempotency_key="mail", method="va_bca")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)  # the capture: receipt, invoice paid, the email queued after commit
        payment_sync(payment.pk)  # the same news again
    headers, body = fakegw.webhook("evt-late", payment.reference)  # and a late webhook, and reconciliation
    with django_capture_on_commit_callbacks(execute=True):
        webhook_process(webhook_receive("testpay", headers, body).pk)
        payments_reconcile()

    [mail] = smtp_server.wait_for("sari@example.test")
    assert len(smtp_server.to("sari@example.test")) == 1
    assert OutboxMessage.objects.filter(template="payments.receipt", recipient="sari@example.test").count() == 1
    assert mail["Subject"] == f"Receipt KWT/2026/000001 from {ws.name}"  # in the client's language
    text = smtp_server.text(mail)
    assert "We received your payment of IDR 1,665,000 for invoice INV/2026/000001" in text
    assert "The invoice is now paid in full." in text and "/invoices/" in text and "/receipts/" in text

    pdfs = _attachments(mail)
    assert list(pdfs) == ["KWT-2026-000001.pdf", "INV-2026-000001.pdf"]
    kuitansi, tagihan = pdfs["KWT-2026-000001.pdf"], pdfs["INV-2026-000001.pdf"]
    for word in ["Receipt KWT/2026/000001", "Received from: Sari Wulandari", "Method: BCA virtual account",
                 "PPN 12% (tax base 11/12 = IDR 1,375,000)\nIDR 165,000", "Paid with this receipt\nIDR 1,665,000",
                 LEGAL_NAME, f"NPWP {NPWP}"]:
        assert word in kuitansi, word
    for word in ["Invoice INV/2026/000001", "PAID", "Bill to: Sari Wulandari", "Konsultasi 60 menit",
                 "PPN 12% (tax base 11/12 = IDR 1,375,000)", "Total\nIDR 1,665,000", "Balance due\nIDR 0",
                 "KWT/2026/000001", LEGAL_NAME, f"NPWP {NPWP}", ADDRESS]:
        assert word in tagihan, word


def test_a_part_payment_emails_only_its_receipt_in_indonesian(
        smtp_server, ws, invoice_factory, client_factory, fakegw, frozen_clock, django_capture_on_commit_callbacks):
    with_legal_details(ws)
    customer = client_factory(ws, name="Budi", email="budi@example.test", language="id")
    invoice = invoice_factory(ws, 1_500_000, client=customer)
    payment = payment_start(invoice=invoice, idempotency_key="part", method="va_bca", amount=Money(500_000))
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)

    [mail] = smtp_server.wait_for("budi@example.test")
    assert mail["Subject"] == f"Kuitansi KWT/2026/000001 dari {ws.name}"
    assert "Kuitansi terlampir dalam PDF." in smtp_server.text(mail)
    pdfs = _attachments(mail)
    assert list(pdfs) == ["KWT-2026-000001.pdf"]  # the invoice is not paid yet: it is linked, not attached
    assert "Dibayar dengan kuitansi ini\nRp 500.000" in pdfs["KWT-2026-000001.pdf"]
    assert "Metode pembayaran: Virtual account BCA" in pdfs["KWT-2026-000001.pdf"]
    assert "/invoices/" in smtp_server.text(mail)
