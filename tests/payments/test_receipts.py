"""Receipts: numbered KWT/<year>/<n>, HTML and PDF in id/en with legal details, emailed with the PDF."""

from __future__ import annotations

import pytest

from jasa.accounts.models import Membership
from jasa.payments.gateways.base import Status
from jasa.payments.models import Receipt
from jasa.payments.receipts import receipt_pdf, receipt_urls
from jasa.payments.services import payment_start, payment_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(ws, invoice_factory, fakegw, frozen_clock):
    ws.legal_name = "PT Studio Acme Indonesia"
    ws.npwp = "01.234.567.8-901.000"
    ws.address = "Jl. Sudirman 1, Jakarta"
    ws.save()
    invoice = invoice_factory(ws, 1_500_000)
    payment = payment_start(invoice=invoice, idempotency_key="rc", method="card")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    payment_sync(payment.pk)
    return Receipt.objects.get(payment=payment)


def test_numbering(receipt, ws, invoice_factory, fakegw):
    assert receipt.number == "KWT/2026/000001"
    invoice = invoice_factory(ws, 10_000)
    p = payment_start(invoice=invoice, idempotency_key="rc2")
    fakegw.set_status(p.reference, Status.SUCCEEDED)
    payment_sync(p.pk)
    assert Receipt.objects.get(payment=p).number == "KWT/2026/000002"


@pytest.mark.parametrize(("lang", "words"), [("id", ["Kuitansi", "Rp 1.500.000"]), ("en", ["Receipt", "IDR 1,500,000"])])
def test_html_via_signed_link(client, receipt, lang, words):
    page = client.get(receipt_urls(receipt)["html_path"] + f"&lang={lang}").content.decode()
    for word in [*words, "PT Studio Acme Indonesia", "NPWP 01.234.567.8-901.000", receipt.number]:
        assert word in page


def test_no_token_no_receipt(client, receipt):
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 404
    assert client.get(f"/receipts/{receipt.pk}/?t=forged").status_code == 404


def test_staff_member_may_open_without_token(client, ws, receipt):
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    assert client.get(f"/receipts/{receipt.pk}/pdf/").status_code == 200


def test_pdf(client, receipt):
    r = client.get(receipt_urls(receipt)["pdf_path"])
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert receipt_pdf(receipt, "en").startswith(b"%PDF")


def test_emailed_with_pdf_once(smtp_server, receipt, django_capture_on_commit_callbacks):
    from jasa.payments.receipts import receipt_send

    client = receipt.invoice.client
    with django_capture_on_commit_callbacks(execute=True):
        receipt_send(str(receipt.pk))
        receipt_send(str(receipt.pk))  # deduplicated by the outbox
    [mail] = smtp_server.wait_for(client.email)
    assert receipt.number in mail["Subject"]
    attachments = [part.get_filename() for part in mail.iter_attachments()]
    assert attachments == ["KWT-2026-000001.pdf"]
    receipt.refresh_from_db()
    assert receipt.emailed_at is not None
