"""Receipts (kuitansi): the numbered proof of a payment, as an HTML page and a PDF, in id or en.

Links carry a signed token so the client can open them from the email without logging in.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from jasa.core import clock
from jasa.payments import documents
from jasa.payments.documents import method_label
from jasa.payments.models import InvoiceStatus, Receipt

log = logging.getLogger(__name__)
SALT = "jasa.payments.receipt"


def receipt_token(receipt: Receipt) -> str:
    return documents.sign(SALT, receipt.pk)


def token_ok(receipt_id: str, token: str) -> bool:
    return documents.signed(SALT, receipt_id, token)


def receipt_urls(receipt: Receipt) -> dict[str, str]:
    token = receipt_token(receipt)
    html = reverse("payments:receipt", kwargs={"receipt_id": receipt.pk}) + f"?t={token}"
    pdf = reverse("payments:receipt_pdf", kwargs={"receipt_id": receipt.pk}) + f"?t={token}"
    return {"html": settings.SITE_URL + html, "pdf": settings.SITE_URL + pdf, "html_path": html, "pdf_path": pdf}


def receipt_context(receipt: Receipt, language: str) -> dict:
    invoice = receipt.invoice
    payment = receipt.payment
    return {
        "receipt": receipt,
        "invoice": invoice,
        "payment": payment,
        "workspace": receipt.workspace,
        "client": invoice.client,
        "totals": documents.invoice_totals(invoice, language),
        "issued": documents.local_date(receipt.issued_at, receipt.workspace.tz, time=True),
        "method": method_label(payment.method, language) or payment.gateway,
        "language": language,
    }


def receipt_pdf(receipt: Receipt, language: str = "id") -> bytes:
    """A one-page A4 PDF of the receipt with the paid invoice's lines, PPN and total."""
    ctx = receipt_context(receipt, language)
    client = ctx["client"]
    with translation.override(language):
        doc = documents.Pdf(
            title=f"{_('Receipt')} {receipt.number}",
            workspace=ctx["workspace"],
            facts=[
                (_("Received from"), f"{client.name} ({client.email})"),
                (_("Invoice"), ctx["invoice"].number or ""),
                (_("Paid on"), f"{ctx['issued']} · {_('Method')}: {ctx['method']}"),
            ],
            totals=ctx["totals"],
            after_total=[(_("Paid with this receipt"), receipt.amount)],
            notes=[_("Thank you. This receipt is valid without a signature.")],
        )
    return documents.pdf_render(doc, language)


def receipt_send(receipt_id: str) -> bool:
    """Email the receipt through the outbox, once (dedupe by receipt), with its PDF, the invoice's PDF once
    the invoice is paid in full, and links to both."""
    from jasa.notifications.services import notify
    from jasa.payments.invoice_document import invoice_document_urls, invoice_pdf, pdf_filename

    receipt = Receipt.objects.select_related("invoice__client", "workspace", "payment").filter(pk=receipt_id).first()
    if receipt is None:
        return False
    invoice = receipt.invoice
    client = invoice.client
    language = client.language if client.language in ("id", "en") else "id"
    urls = receipt_urls(receipt)
    attachments = [{"filename": f"{receipt.number.replace('/', '-')}.pdf", "content_type": "application/pdf",
                    "content": receipt_pdf(receipt, language)}]
    if invoice.status == InvoiceStatus.PAID:
        attachments.append({"filename": pdf_filename(invoice), "content_type": "application/pdf",
                            "content": invoice_pdf(invoice, language)})
    notify(
        workspace=receipt.workspace, channel="email", recipient=client.email, template="payments.receipt",
        context={
            "recipient_name": client.name, "workspace_name": receipt.workspace.name, "number": receipt.number,
            "invoice_number": invoice.number or "", "amount": receipt.amount.format(language),
            "receipt_url": urls["html"], "pdf_url": urls["pdf"], "invoice_url": invoice_document_urls(invoice)["html"],
            "invoice_paid": invoice.status == InvoiceStatus.PAID,
        },
        language=language, dedupe_key=f"receipt:{receipt.pk}", attachments=attachments,
    )
    Receipt.objects.filter(pk=receipt.pk, emailed_at__isnull=True).update(emailed_at=clock.now())
    return True


def refund_receipt_send(refund_id: str) -> bool:
    """Email the client that a refund by bank transfer was sent (the refund receipt), once per refund."""
    from jasa.notifications.services import notify
    from jasa.payments.models import Refund

    refund = Refund.objects.select_related("payment__invoice__client", "workspace").filter(pk=refund_id).first()
    if refund is None or refund.status != "succeeded":
        return False
    client = refund.payment.invoice.client
    language = client.language if client.language in ("id", "en") else "id"
    notify(
        workspace=refund.workspace, channel="email", recipient=client.email, template="payments.refund_receipt",
        context={
            "recipient_name": client.name, "workspace_name": refund.workspace.name,
            "invoice_number": refund.payment.invoice.number or "", "amount": refund.amount.format(language),
            "bank_name": refund.bank_name, "account_tail": refund.account_number[-4:],
            "transfer_reference": refund.transfer_reference,
        },
        language=language, dedupe_key=f"refund:{refund.pk}",
    )
    return True
