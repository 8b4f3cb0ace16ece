"""Receipts (kuitansi): the numbered proof of a payment, as an HTML page and a PDF, in id or en.

Links carry a signed token so the client can open them from the email without logging in.
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from jasa.core import clock
from jasa.payments.models import Receipt

log = logging.getLogger(__name__)
SALT = "jasa.payments.receipt"


def receipt_token(receipt: Receipt) -> str:
    return signing.Signer(salt=SALT).sign(str(receipt.pk)).split(":", 1)[1]


def token_ok(receipt_id: str, token: str) -> bool:
    try:
        return signing.Signer(salt=SALT).unsign(f"{receipt_id}:{token}") == str(receipt_id)
    except signing.BadSignature:
        return False


def receipt_urls(receipt: Receipt) -> dict[str, str]:
    token = receipt_token(receipt)
    html = reverse("payments:receipt", kwargs={"receipt_id": receipt.pk}) + f"?t={token}"
    pdf = reverse("payments:receipt_pdf", kwargs={"receipt_id": receipt.pk}) + f"?t={token}"
    return {"html": settings.SITE_URL + html, "pdf": settings.SITE_URL + pdf, "html_path": html, "pdf_path": pdf}


def receipt_context(receipt: Receipt, language: str) -> dict:
    invoice = receipt.invoice
    payment = receipt.payment
    workspace = receipt.workspace
    lines = list(invoice.lines.all())
    tz = workspace.tz
    return {
        "receipt": receipt,
        "invoice": invoice,
        "payment": payment,
        "workspace": workspace,
        "client": invoice.client,
        "lines": [{"description": li.description, "quantity": li.quantity, "unit": li.unit.format(language),
                   "amount": li.amount.format(language), "kind": li.kind} for li in lines],
        "subtotal": invoice.subtotal.format(language),
        "tax": invoice.tax.format(language),
        "total": invoice.total.format(language),
        "amount": receipt.amount.format(language),
        "issued": receipt.issued_at.astimezone(tz).strftime("%d-%m-%Y %H:%M"),
        "method": payment.method or payment.gateway,
        "language": language,
    }


def receipt_pdf(receipt: Receipt, language: str = "id") -> bytes:
    """A one-page A4 PDF of the receipt with the paid invoice's lines."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    ctx = receipt_context(receipt, language)
    ws = ctx["workspace"]
    buf = io.BytesIO()
    with translation.override(language):
        doc = SimpleDocTemplate(buf, pagesize=A4, title=f"{_('Receipt')} {receipt.number}",
                                leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
        styles = getSampleStyleSheet()
        story = [
            Paragraph(f"{_('Receipt')} {receipt.number}", styles["Title"]),
            Paragraph(ws.legal_name or ws.name, styles["Heading3"]),
        ]
        for text in (ws.address, f"NPWP {ws.npwp}" if ws.npwp else "", ws.email, ws.phone):
            if text:
                story.append(Paragraph(text.replace("\n", "<br/>"), styles["Normal"]))
        story += [
            Spacer(1, 6 * mm),
            Paragraph(f"{_('Received from')}: {ctx['client'].name} ({ctx['client'].email})", styles["Normal"]),
            Paragraph(f"{_('Invoice')}: {ctx['invoice'].number}", styles["Normal"]),
            Paragraph(f"{_('Paid on')}: {ctx['issued']} · {_('Method')}: {ctx['method']}", styles["Normal"]),
            Spacer(1, 6 * mm),
        ]
        rows = [[_("Description"), _("Qty"), _("Price"), _("Amount")]]
        rows += [[li["description"], str(li["quantity"]), li["unit"], li["amount"]] for li in ctx["lines"]]
        rows += [["", "", _("Total"), ctx["total"]], ["", "", _("Paid with this receipt"), ctx["amount"]]]
        table = Table(rows, colWidths=[90 * mm, 15 * mm, 35 * mm, 35 * mm])
        table.setStyle(TableStyle([
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTNAME", (2, -2), (-1, -1), "Helvetica-Bold"),
        ]))
        story += [table, Spacer(1, 8 * mm),
                  Paragraph(_("Thank you. This receipt is valid without a signature."), styles["Italic"])]
        doc.build(story)
    return buf.getvalue()


def receipt_send(receipt_id: str) -> bool:
    """Email the receipt with its PDF through the outbox, once (dedupe by receipt)."""
    from jasa.notifications.services import notify

    receipt = Receipt.objects.select_related("invoice__client", "workspace", "payment").filter(pk=receipt_id).first()
    if receipt is None:
        return False
    client = receipt.invoice.client
    language = client.language if client.language in ("id", "en") else "id"
    urls = receipt_urls(receipt)
    notify(
        workspace=receipt.workspace, channel="email", recipient=client.email, template="payments.receipt",
        context={
            "recipient_name": client.name, "workspace_name": receipt.workspace.name, "number": receipt.number,
            "invoice_number": receipt.invoice.number or "", "amount": receipt.amount.format(language),
            "receipt_url": urls["html"], "pdf_url": urls["pdf"],
        },
        language=language, dedupe_key=f"receipt:{receipt.pk}",
        attachments=[{"filename": f"{receipt.number.replace('/', '-')}.pdf", "content_type": "application/pdf",
                      "content": receipt_pdf(receipt, language)}],
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
