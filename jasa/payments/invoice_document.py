"""The invoice as a document: an HTML page and an A4 PDF of an issued invoice, in id or en, with the business's
legal details, the client billed, the lines, subtotal, PPN and total, and once money came in what was paid,
by which payments, and what is left ("LUNAS" / "PAID" once paid in full).

Links carry a signed token of their own (see documents.sign), like the receipt's: the client opens them from
the receipt email, the pay page or the portal; staff from the invoice's page.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from jasa.payments import documents
from jasa.payments.models import Invoice, InvoiceStatus, Receipt

SALT = "jasa.payments.invoice"


def invoice_token(invoice: Invoice) -> str:
    return documents.sign(SALT, invoice.pk)


def token_ok(invoice_id, token: str) -> bool:
    return documents.signed(SALT, invoice_id, token)


def invoice_document_urls(invoice: Invoice) -> dict[str, str]:
    """Absolute links for emails (``html``, ``pdf``) and paths for pages (``html_path``, ``pdf_path``)."""
    query = f"?t={invoice_token(invoice)}"
    html = reverse("payments:invoice_document", kwargs={"invoice_id": invoice.pk}) + query
    pdf = reverse("payments:invoice_pdf", kwargs={"invoice_id": invoice.pk}) + query
    return {"html": settings.SITE_URL + html, "pdf": settings.SITE_URL + pdf, "html_path": html, "pdf_path": pdf}


def pdf_filename(invoice: Invoice) -> str:
    return f"{(invoice.number or 'invoice').replace('/', '-')}.pdf"


def _status_word(invoice: Invoice, paid) -> str:
    if invoice.status == InvoiceStatus.PAID:
        return _("PAID")
    if invoice.status == InvoiceStatus.VOID:
        return _("VOID")
    if invoice.status == InvoiceStatus.UNCOLLECTIBLE:
        return _("WRITTEN OFF")
    return _("PARTLY PAID") if paid.amount > 0 else _("UNPAID")


def invoice_document_context(invoice: Invoice, language: str) -> dict:
    """Everything both forms of the document show, in ``language`` (money formatted for it)."""
    from jasa.payments.services import invoice_amounts

    workspace = invoice.workspace
    tz = workspace.tz
    amounts = invoice_amounts(invoice)
    receipts = list(Receipt.objects.filter(invoice=invoice).select_related("payment").order_by("issued_at"))
    with translation.override(language):
        payments = [{"number": r.number, "date": documents.local_date(r.issued_at, tz),
                     "method": documents.method_label(r.payment.method, language) or r.payment.gateway,
                     "amount": r.amount} for r in receipts]
        return {
            "invoice": invoice,
            "workspace": workspace,
            "client": invoice.client,
            "language": language,
            "totals": documents.invoice_totals(invoice, language),
            "status_word": _status_word(invoice, amounts["paid"]),
            "issued": documents.local_date(invoice.issued_at, tz),
            "due": documents.local_date(invoice.due_at, tz),
            "paid_on": documents.local_date(invoice.paid_at, tz) if invoice.status == InvoiceStatus.PAID else "",
            "amounts": amounts,
            "payments": payments,
            "pay_link": _pay_link(invoice, amounts),
        }


def _pay_link(invoice: Invoice, amounts) -> str:
    """Where to pay what is left, while the invoice can still be paid."""
    from jasa.payments.views_client import pay_url

    return pay_url(invoice) if invoice.status == InvoiceStatus.OPEN and amounts["balance"].amount > 0 else ""


def invoice_pdf(invoice: Invoice, language: str = "id") -> bytes:
    ctx = invoice_document_context(invoice, language)
    client = ctx["client"]
    amounts = ctx["amounts"]
    with translation.override(language):
        # what came in, then what went back: total − paid is the balance, as a client adds it up
        after_total = [(_("Amount paid"), amounts["captured"])]
        if amounts["refunded"]:
            after_total.append((_("Refunded"), amounts["refunded"]))
        after_total.append((_("Balance due"), amounts["balance"]))
        notes = []
        if ctx["pay_link"]:
            notes.append(_("Pay online: %(link)s") % {"link": ctx["pay_link"]})
        if invoice.memo:
            notes.append(invoice.memo)
        doc = documents.Pdf(
            title=f"{_('Invoice')} {invoice.number}",
            workspace=ctx["workspace"],
            stamp=ctx["status_word"],
            facts=[
                (_("Bill to"), " · ".join(p for p in (client.name, client.company, client.email, client.phone) if p)),
                (_("Invoice date"), ctx["issued"]),
                (_("Due date"), ctx["due"]),
                (_("Paid on"), ctx["paid_on"]),
            ],
            totals=ctx["totals"],
            after_total=after_total,
            tables=[(_("Payments received"), [_("Receipt"), _("Date"), _("Method"), _("Amount")],
                     [[p["number"], p["date"], p["method"], p["amount"].format(language)] for p in ctx["payments"]])],
            notes=notes,
        )
    return documents.pdf_render(doc, language)
